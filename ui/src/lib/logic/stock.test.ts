import { describe, expect, it } from 'vitest';
import { DEFAULT_COMMODITIES } from '../fakeBackend';
import { deliveryDraft, deliveryProblem, isLow, stockRows } from './stock';

describe('stock levels', () => {
  const catalogue = DEFAULT_COMMODITIES.slice(0, 3); // syringe_1ml, syringe_2ml, syringe_5ml (threshold 100)

  it('lists every catalogue commodity, with zero when nothing moved, then retired ones', () => {
    const rows = stockRows(catalogue, [
      { commodity: 'syringe_2ml', received: 500, distributed: 420, level: 80 },
      { commodity: 'old_thing', received: 5, distributed: 0, level: 5 },
    ]);
    expect(rows.map((r) => [r.code, r.level])).toEqual([
      ['syringe_1ml', 0],
      ['syringe_2ml', 80],
      ['syringe_5ml', 0],
      ['old_thing', 5],
    ]);
  });

  it('warns when the level is below the threshold, not at it', () => {
    expect(isLow({ level: 99, threshold: 100 })).toBe(true);
    expect(isLow({ level: 100, threshold: 100 })).toBe(false);
    expect(isLow({ level: -3, threshold: null })).toBe(false);
  });
});

describe('deliveries', () => {
  const base = { commodity: 'syringe_1ml', quantity: 500, batch: '', expiryDate: '', grantCode: '' };

  it('needs a quantity between 1 and 10 000 and a real expiry date', () => {
    expect(deliveryProblem(base)).toBeNull();
    expect(deliveryProblem({ ...base, quantity: 0 })).toBe('quantity');
    expect(deliveryProblem({ ...base, quantity: 10_001 })).toBe('quantity');
    expect(deliveryProblem({ ...base, expiryDate: '2027-02-30' })).toBe('expiry');
    expect(deliveryProblem({ ...base, expiryDate: '2027-02-28' })).toBeNull();
  });

  it('records a received movement, leaving out blank optional fields', () => {
    expect(deliveryDraft(base)).toEqual({ commodity: 'syringe_1ml', quantity: 500, kind: 'received' });
    expect(deliveryDraft({ ...base, batch: ' B-17 ', expiryDate: '2027-03-31', grantCode: 'GF-2025' })).toEqual({
      commodity: 'syringe_1ml',
      quantity: 500,
      kind: 'received',
      batch: 'B-17',
      expiry_date: '2027-03-31',
      grant_code: 'GF-2025',
    });
  });
});
