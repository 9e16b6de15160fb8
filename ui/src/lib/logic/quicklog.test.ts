import { describe, expect, it } from 'vitest';
import type { ContactSummary } from '../backend';
import { lastKit, quickLogDraft } from './quicklog';

function contact(occurred_at: string, items: Record<string, number>): ContactSummary {
  return {
    id: occurred_at,
    occurred_at,
    setting: 'window',
    client_id: 'c1',
    client_uic: 'MAIV287',
    note: null,
    editable: true,
    items,
    overdose: null,
  };
}

describe('quick-log prefill from history', () => {
  it('offers the kit of the most recent contact', () => {
    const history = [
      contact('2025-11-20T10:00:00Z', { syringe_1ml: 10, alcohol_swab: 10 }),
      contact('2025-11-24T09:30:00Z', { syringe_2ml: 5, sterile_water: 2 }),
      contact('2025-11-22T16:00:00Z', { foil: 5 }),
    ];
    expect(lastKit(history)).toEqual([
      { commodity: 'sterile_water', quantity: 2 },
      { commodity: 'syringe_2ml', quantity: 5 },
    ]);
  });

  it('skips contacts where nothing was given or everything was reversed', () => {
    const history = [
      contact('2025-11-24T09:30:00Z', {}),
      contact('2025-11-23T09:30:00Z', { syringe_1ml: 0 }),
      contact('2025-11-22T09:30:00Z', { syringe_1ml: 10, condom_external: 2 }),
    ];
    expect(lastKit(history)).toEqual([
      { commodity: 'condom_external', quantity: 2 },
      { commodity: 'syringe_1ml', quantity: 10 },
    ]);
  });

  it('drops lines that are net negative or zero after reversals', () => {
    const history = [contact('2025-11-24T09:30:00Z', { syringe_1ml: 10, alcohol_swab: -2, filter: 0 })];
    expect(lastKit(history)).toEqual([{ commodity: 'syringe_1ml', quantity: 10 }]);
  });

  it('orders rows as the catalogue does, unknown codes last', () => {
    const history = [contact('2025-11-24T09:30:00Z', { zz_new: 1, alcohol_swab: 10, syringe_1ml: 10 })];
    expect(lastKit(history, ['syringe_1ml', 'alcohol_swab']).map((i) => i.commodity)).toEqual([
      'syringe_1ml',
      'alcohol_swab',
      'zz_new',
    ]);
  });

  it('is empty for a client with no history', () => {
    expect(lastKit([])).toEqual([]);
  });

  it('builds the contact saved by Confirm', () => {
    const draft = quickLogDraft({
      clientId: 'c1',
      setting: 'window',
      items: [
        { commodity: 'syringe_1ml', quantity: 10 },
        { commodity: 'filter', quantity: 0 },
      ],
      sharpsReturned: 8,
      collectingFor: 0,
    });
    expect(draft).toEqual({
      client: { id: 'c1' },
      setting: 'window',
      services: ['kit'],
      collecting_for: 0,
      items: [{ commodity: 'syringe_1ml', quantity: 10 }],
      sharps_returned: 8,
      referrals: [],
      tests: [],
    });
  });

  it('sends no kit service and no sharps count when there is nothing to record', () => {
    const draft = quickLogDraft({ clientId: 'c1', setting: 'window', items: [], sharpsReturned: 0, collectingFor: 3 });
    expect(draft.services).toEqual([]);
    expect(draft.collecting_for).toBe(3);
    expect('sharps_returned' in draft).toBe(false);
  });
});
