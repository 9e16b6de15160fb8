import { describe, expect, it } from 'vitest';
import type { Indicator } from '../api';
import { displayCell, formatValue, indicatorCoverage, share, visibleTotal } from './numbers';

describe('coverage of syringes per PWID per year', () => {
  const indicator = (value: number | null, coverage?: Indicator['coverage']): Indicator => ({
    key: 'syringes_per_pwid_per_year',
    value,
    suppressed: false,
    unit: 'per_pwid_year',
    formula: '',
    breakdowns: [],
    ...(coverage ? { coverage } : {}),
  });

  it("is the server's band, and none when the server sent none", () => {
    expect(indicatorCoverage(indicator(150, 'high'))).toBe('high');
    expect(indicatorCoverage(indicator(150, 'medium'))).toBe('medium');
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

  it('of counts are whole, of rates to one decimal', () => {
    expect(formatValue(12500.44, 'per_pwid_year', 'en-GB')).toBe('12,500.4');
    expect(formatValue(3, 'contacts', 'en-GB')).toBe('3');
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
