import { describe, expect, it } from 'vitest';
import { adjust, bandTotal, emptyTally, genderTotal, grandTotal, tallyCells, tallyDraft, tallyIsEmpty } from './tally';

describe('group tally arithmetic', () => {
  it('starts at zero everywhere', () => {
    const t = emptyTally();
    expect(grandTotal(t)).toBe(0);
    expect(tallyCells(t)).toEqual([]);
    expect(Object.keys(t)).toEqual(['woman', 'man', 'non_binary', 'not_stated']);
    expect(Object.keys(t.woman)).toEqual(['under_15', '15_19', '20_24', '25_49', '50_plus']);
  });

  it('adds up rows, columns and the total', () => {
    let t = emptyTally();
    t = adjust(t, 'woman', '20_24', 1);
    t = adjust(t, 'woman', '20_24', 1);
    t = adjust(t, 'woman', '25_49', 1);
    t = adjust(t, 'man', '20_24', 3);
    t = adjust(t, 'non_binary', '15_19', 1);
    expect(genderTotal(t, 'woman')).toBe(3);
    expect(genderTotal(t, 'man')).toBe(3);
    expect(bandTotal(t, '20_24')).toBe(5);
    expect(bandTotal(t, '50_plus')).toBe(0);
    expect(grandTotal(t)).toBe(7);
  });

  it('never counts below zero and leaves the original untouched', () => {
    const before = adjust(emptyTally(), 'man', '50_plus', 1);
    const after = adjust(adjust(before, 'man', '50_plus', -1), 'man', '50_plus', -1);
    expect(after.man['50_plus']).toBe(0);
    expect(before.man['50_plus']).toBe(1);
  });

  it('sends only non-empty cells, in a fixed order', () => {
    let t = emptyTally();
    t = adjust(t, 'not_stated', 'under_15', 2);
    t = adjust(t, 'woman', '50_plus', 1);
    expect(tallyCells(t)).toEqual([
      { gender: 'woman', age_band: '50_plus', count: 1 },
      { gender: 'not_stated', age_band: 'under_15', count: 2 },
    ]);
  });

  it('builds the saved tally with a trimmed, optional event name', () => {
    const counts = adjust(emptyTally(), 'man', '25_49', 4);
    const items = [
      { commodity: 'condom_external', quantity: 30 },
      { commodity: 'earplugs', quantity: 0 },
    ];
    expect(tallyDraft({ setting: 'nightlife', eventName: '  Summer fest ', counts, items })).toEqual({
      setting: 'nightlife',
      event_name: 'Summer fest',
      people: [{ gender: 'man', age_band: '25_49', count: 4 }],
      items: [{ commodity: 'condom_external', quantity: 30 }],
    });
    expect('event_name' in tallyDraft({ setting: 'nightlife', eventName: '  ', counts, items })).toBe(false);
  });

  it('knows when there is nothing to save', () => {
    expect(tallyIsEmpty(emptyTally(), [{ commodity: 'foil', quantity: 0 }])).toBe(true);
    expect(tallyIsEmpty(emptyTally(), [{ commodity: 'foil', quantity: 1 }])).toBe(false);
    expect(tallyIsEmpty(adjust(emptyTally(), 'woman', '15_19', 1), [])).toBe(false);
  });
});

describe('tally state', () => {
  it('adjusts counts held in a proxy (as Svelte state is)', () => {
    const proxied = new Proxy(emptyTally(), {});
    expect(adjust(proxied, 'woman', '15_19', 1).woman['15_19']).toBe(1);
  });
});
