import { describe, expect, it } from 'vitest';
import { birthDecades, decadeLabel, MAX_CODE_CHARS, pressCodeKey, splitYear, yearFrom } from './pads';

describe('the code pad', () => {
  it('types, deletes and clears, and stops at the longest code', () => {
    expect(pressCodeKey('MAI', 'V')).toBe('MAIV');
    expect(pressCodeKey('MAIV', 'backspace')).toBe('MAI');
    expect(pressCodeKey('', 'backspace')).toBe('');
    expect(pressCodeKey('MAIV287', 'clear')).toBe('');
    const full = 'A'.repeat(MAX_CODE_CHARS);
    expect(pressCodeKey(full, 'B')).toBe(full);
  });
});

describe('the year picker', () => {
  it('offers the decades of clients aged 10 to 90', () => {
    expect(birthDecades(new Date(2026, 11, 6))).toEqual([1930, 1940, 1950, 1960, 1970, 1980, 1990, 2000, 2010]);
    expect(birthDecades(new Date(2030, 0, 1))).toEqual([1940, 1950, 1960, 1970, 1980, 1990, 2000, 2010, 2020]);
  });

  it('makes a year of a decade and a digit, and splits one back', () => {
    expect(decadeLabel(1980)).toBe('1980–89');
    expect(decadeLabel(2000)).toBe('2000–09');
    expect(yearFrom(1980, 7)).toBe(1987);
    expect(yearFrom(1980, null)).toBeNull();
    expect(yearFrom(null, 7)).toBeNull();
    expect(splitYear('1987')).toEqual({ decade: 1980, digit: 7 });
    expect(splitYear(' 2001 ')).toEqual({ decade: 2000, digit: 1 });
    expect(splitYear('87')).toEqual({ decade: null, digit: null });
    expect(splitYear('')).toEqual({ decade: null, digit: null });
  });
});
