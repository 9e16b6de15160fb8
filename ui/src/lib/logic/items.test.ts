import { describe, expect, it } from 'vitest';
import { itemsFromTemplate, removeItem, sameItems, setQuantity, toPayloadItems, totalUnits } from './items';

describe('kit items', () => {
  it('sets, adds and removes rows', () => {
    let items = setQuantity([], 'syringe_1ml', 10);
    items = setQuantity(items, 'alcohol_swab', 10);
    items = setQuantity(items, 'syringe_1ml', 12);
    expect(items).toEqual([
      { commodity: 'syringe_1ml', quantity: 12 },
      { commodity: 'alcohol_swab', quantity: 10 },
    ]);
    expect(removeItem(items, 'syringe_1ml')).toEqual([{ commodity: 'alcohol_swab', quantity: 10 }]);
  });

  it('clamps quantities into 0–10 000', () => {
    expect(setQuantity([], 'foil', -4)).toEqual([{ commodity: 'foil', quantity: 0 }]);
    expect(setQuantity([], 'foil', 50_000)).toEqual([{ commodity: 'foil', quantity: 10_000 }]);
  });

  it('sends positive rows only, duplicates added up', () => {
    expect(
      toPayloadItems([
        { commodity: 'foil', quantity: 0 },
        { commodity: 'syringe_1ml', quantity: 5 },
        { commodity: 'syringe_1ml', quantity: 5 },
      ]),
    ).toEqual([{ commodity: 'syringe_1ml', quantity: 10 }]);
  });

  it('copies templates so edits do not change the template', () => {
    const template = { code: 'injecting', name: 'Injecting kit', items: [{ commodity: 'syringe_1ml', quantity: 10 }], order: 10, retired: false };
    const items = itemsFromTemplate(template);
    items[0].quantity = 3;
    expect(template.items[0].quantity).toBe(10);
  });

  it('compares lists ignoring order and zero rows', () => {
    const a = [
      { commodity: 'a', quantity: 1 },
      { commodity: 'b', quantity: 2 },
    ];
    const b = [
      { commodity: 'b', quantity: 2 },
      { commodity: 'c', quantity: 0 },
      { commodity: 'a', quantity: 1 },
    ];
    expect(sameItems(a, b)).toBe(true);
    expect(sameItems(a, [{ commodity: 'a', quantity: 1 }])).toBe(false);
    expect(totalUnits(a)).toBe(3);
  });
});
