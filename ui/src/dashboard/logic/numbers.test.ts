import { describe, expect, it } from 'vitest';
import type { Indicator } from '../api';
import { coverageLevel, displayCell, formatValue, indicatorCoverage, indicatorUnit, share, visibleTotal } from './numbers';

describe('coverage of syringes per PWID per year', () => {
  it.each([
    [0, 'low'],
    [99.9, 'low'],
    [100, 'medium'],
    [200, 'medium'],
    [200.1, 'high'],
    [450, 'high'],
  ] as const)('%s is %s', (value, level) => {
    expect(coverageLevel(value)).toBe(level);
  });

  const indicator = (value: number | null, coverage?: Indicator['coverage']): Indicator => ({
    key: 'syringes_per_pwid_per_year',
    value,
    suppressed: false,
    unit: 'per_pwid_year',
    formula: '',
    breakdowns: [],
    ...(coverage ? { coverage } : {}),
  });

  it("prefers the server's level, computes one when absent, and has none without an estimate", () => {
    expect(indicatorCoverage(indicator(150, 'high'))).toBe('high');
    expect(indicatorCoverage(indicator(150))).toBe('medium');
    expect(indicatorCoverage(indicator(null))).toBeNull();
    expect(indicatorCoverage({ ...indicator(150), key: 'contacts' })).toBeNull();
  });
});

describe('values', () => {
  it('are formatted for the language', () => {
    expect(formatValue(12500, 'items', 'en-GB')).toBe('12,500');
    expect(formatValue(12500, 'items', 'ru-RU')).toMatch(/^12\s500$/);
    expect(formatValue(63.44, 'percent', 'en-GB')).toBe('63.4%');
    expect(formatValue(63.44, 'percent', 'uk-UA')).toMatch(/^63,4\s?%$/);
    expect(formatValue(143.27, 'per_pwid_year', 'en-GB')).toBe('143.3');
    expect(formatValue(7.6, 'people', 'en-GB')).toBe('8');
  });

  it('of a unit the dashboard does not know are plain numbers', () => {
    expect(indicatorUnit({ unit: 'per_pwid_year' })).toBe('per_pwid_year');
    expect(indicatorUnit({ unit: 'doses' })).toBeNull();
    expect(formatValue(12500.44, null, 'en-GB')).toBe('12,500.4');
    expect(formatValue(3, null, 'en-GB')).toBe('3');
    expect(displayCell({ value: null, suppressed: true }, null, 'en-GB')).toEqual({ kind: 'suppressed', text: '<5' });
  });

  it('show "<5" when suppressed and a dash when missing', () => {
    expect(displayCell({ value: null, suppressed: true }, 'people', 'en-GB')).toEqual({ kind: 'suppressed', text: '<5' });
    expect(displayCell({ value: null, suppressed: false }, 'per_pwid_year', 'en-GB')).toEqual({ kind: 'empty', text: '—' });
    expect(displayCell({ value: 0, suppressed: false }, 'people', 'en-GB')).toEqual({ kind: 'value', text: '0' });
  });

  it('give shares only when both numbers are known', () => {
    expect(share(5, 7, 'en-GB')).toBe('71%');
    expect(share(null, 7, 'en-GB')).toBeNull();
    expect(share(5, 0, 'en-GB')).toBeNull();
  });

  it('never total rows when a cell is hidden (the total would give it away)', () => {
    expect(visibleTotal([{ value: 5, suppressed: false }, { value: 7, suppressed: false }])).toBe(12);
    expect(visibleTotal([{ value: 5, suppressed: false }, { value: null, suppressed: true }])).toBeNull();
  });
});
