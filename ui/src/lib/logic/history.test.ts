import { describe, expect, it } from 'vitest';
import { contactEdit, reversalProblem, reversibleLines } from './history';

describe('corrections', () => {
  it('offers only lines with something left to reverse', () => {
    expect(reversibleLines({ items: { syringe_1ml: 10, foil: 0, filter: -1 } })).toEqual([
      { commodity: 'syringe_1ml', quantity: 10 },
    ]);
  });

  it('reverses between 1 and what is left', () => {
    expect(reversalProblem(10, 1)).toBeNull();
    expect(reversalProblem(10, 10)).toBeNull();
    expect(reversalProblem(10, 11)).toBe('quantity');
    expect(reversalProblem(10, 0)).toBe('quantity');
    expect(reversalProblem(0, 1)).toBe('quantity');
  });

  it('sends only changed fields', () => {
    const original = { note: 'asked about OST', setting: 'window' };
    expect(contactEdit(original, { note: 'asked about OST ', setting: 'window' })).toBeNull();
    expect(contactEdit(original, { note: 'asked about OST', setting: 'fixed_site' })).toEqual({ setting: 'fixed_site' });
    expect(contactEdit(original, { note: '', setting: 'window' })).toEqual({ note: '' });
    expect(contactEdit({ note: null, setting: null }, { note: '', setting: null })).toBeNull();
  });
});
