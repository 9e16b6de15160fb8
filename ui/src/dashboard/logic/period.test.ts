import { describe, expect, it } from 'vitest';
import { addDaysIso, daysBetween, isWholeMonths, matchingPreset, monthsOf, periodProblem, presetPeriod, trendPeriod, wholeMonths } from './period';

describe('date presets', () => {
  const today = '2026-11-15';

  it.each([
    ['this_month', '2026-11-01', '2026-11-15'],
    ['last_month', '2026-10-01', '2026-10-31'],
    ['this_quarter', '2026-10-01', '2026-11-15'],
    ['last_quarter', '2026-07-01', '2026-09-30'],
    ['this_year', '2026-01-01', '2026-11-15'],
    ['last_year', '2025-01-01', '2025-12-31'],
  ] as const)('%s on 15 Nov 2026 is %s to %s (running periods end today)', (preset, from, to) => {
    expect(presetPeriod(preset, today)).toEqual({ from, to });
  });

  it('crosses year boundaries and knows leap years', () => {
    expect(presetPeriod('last_month', '2026-01-10')).toEqual({ from: '2025-12-01', to: '2025-12-31' });
    expect(presetPeriod('last_quarter', '2026-02-03')).toEqual({ from: '2025-10-01', to: '2025-12-31' });
    expect(presetPeriod('last_month', '2028-03-01')).toEqual({ from: '2028-02-01', to: '2028-02-29' });
    expect(presetPeriod('this_quarter', '2026-12-31')).toEqual({ from: '2026-10-01', to: '2026-12-31' });
  });

  it('recognises a preset from its dates, else custom', () => {
    expect(matchingPreset({ from: '2026-10-01', to: '2026-10-31' }, today)).toBe('last_month');
    expect(matchingPreset({ from: '2026-11-01', to: '2026-11-15' }, today)).toBe('this_month');
    expect(matchingPreset({ from: '2026-10-01', to: '2026-10-30' }, today)).toBe('custom');
  });
});

describe('custom periods', () => {
  const today = '2026-11-15';
  it.each([
    ['2026-10-01', '2026-10-31', null],
    ['2026-10-31', '2026-10-31', null],
    ['2026-02-30', '2026-03-31', 'from_invalid'],
    ['2026-10-01', '', 'to_invalid'],
    ['2026-11-01', '2026-10-31', 'order'],
    ['2020-01-01', '2026-10-31', 'too_long'],
  ])('%s to %s: %s', (from, to, problem) => {
    expect(periodProblem({ from, to })).toBe(problem);
  });

  it.each([
    ['2026-10-01', '2026-10-31', null],
    ['2026-01-01', '2026-03-31', null],
    ['2026-11-01', '2026-11-15', null],
    ['2026-10-02', '2026-10-31', 'whole_months'],
    ['2026-10-01', '2026-10-30', 'whole_months'],
    ['2026-11-01', '2026-11-14', 'whole_months'],
  ])('with small numbers hidden, %s to %s: %s', (from, to, problem) => {
    expect(periodProblem({ from, to }, { today })).toBe(problem);
  });

  it('widens a period to whole months when small numbers are hidden', () => {
    expect(wholeMonths({ from: '2026-10-02', to: '2026-10-30' }, today)).toEqual({ from: '2026-10-01', to: '2026-10-31' });
    expect(wholeMonths({ from: '2026-11-03', to: '2026-11-15' }, today)).toEqual({ from: '2026-11-01', to: '2026-11-15' });
    expect(isWholeMonths({ from: '2024-02-01', to: '2024-02-29' }, today)).toBe(true);
  });
});

describe('day and month arithmetic', () => {
  it('counts days, including across DST changes', () => {
    expect(daysBetween('2026-10-01', '2026-10-31')).toBe(30);
    expect(daysBetween('2026-03-28', '2026-03-30')).toBe(2);
    expect(addDaysIso('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDaysIso('2026-03-01', -1)).toBe('2026-02-28');
  });

  it('lists the months of a period', () => {
    expect(monthsOf({ from: '2025-11-20', to: '2026-02-03' })).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
  });

  it('widens a short period to the twelve months before its end for trend charts', () => {
    expect(trendPeriod({ from: '2026-10-01', to: '2026-10-31' })).toEqual({ from: '2025-11-01', to: '2026-10-31' });
    expect(trendPeriod({ from: '2024-01-01', to: '2026-10-31' })).toEqual({ from: '2024-01-01', to: '2026-10-31' });
  });
});
