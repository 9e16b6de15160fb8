import { describe, expect, it } from 'vitest';
import type { Dhis2Settings, SetSummary } from '../api';
import { bySite, cellParts, dhis2Period, firstPeriod, isOver, isUid, mappedSets, periodInYear, problemsOf, problemWith, savedBy } from './dhis2';
import { periodOptions } from './donorReports';

const TODAY = '2026-11-20';

describe('DHIS2 periods', () => {
  it('names every period type DHIS2 stores both ways, as the server does', () => {
    const cases: [string, string, string, string][] = [
      ['2026-10-01', '2026-10-31', '202610', '2026-10-01/P1M'],
      ['2024-02-01', '2024-02-29', '202402', '2024-02-01/P1M'],
      ['2026-07-01', '2026-09-30', '2026Q3', '2026-07-01/P3M'],
      ['2026-10-01', '2026-12-31', '2026Q4', '2026-10-01/P3M'],
      ['2026-01-01', '2026-06-30', '2026S1', '2026-01-01/P6M'],
      ['2026-07-01', '2026-12-31', '2026S2', '2026-07-01/P6M'],
      ['2026-04-01', '2026-09-30', '2026AprilS1', '2026-04-01/P6M'],
      ['2025-10-01', '2026-03-31', '2025AprilS2', '2025-10-01/P6M'],
      ['2026-01-01', '2026-12-31', '2026', '2026-01-01/P1Y'],
      ['2025-10-01', '2026-09-30', '2025Oct', '2025-10-01/P1Y'],
    ];
    for (const [from, to, dhis2, adx] of cases) expect(dhis2Period({ from, to }), `${from}..${to}`).toEqual({ dhis2, adx });
  });

  it('refuses spans DHIS2 keeps no data for', () => {
    for (const [from, to] of [
      ['2026-10-02', '2026-10-31'],
      ['2026-10-01', '2026-10-30'],
      ['2026-02-01', '2026-04-30'],
      ['2026-03-01', '2026-08-31'],
      ['2026-06-01', '2027-05-31'],
      ['2026-10-01', '2026-11-30'],
      ['not a date', '2026-11-30'],
    ]) {
      expect(dhis2Period({ from, to }), `${from}..${to}`).toBeNull();
    }
  });

  it('gives every period the picker offers a DHIS2 name, fiscal halves included', () => {
    for (const kind of ['month', 'quarter', 'half_year', 'year'] as const) {
      for (const o of periodOptions(kind, 2025, TODAY, { fiscal: true })) expect(dhis2Period({ from: o.from, to: o.end }), o.id).not.toBeNull();
    }
  });

  it('starts on the last period that is over, and keeps the same part of another year when it is over', () => {
    const h1 = firstPeriod('half_year', TODAY);
    expect(h1).toMatchObject({ id: '2026-H1', from: '2026-01-01', to: '2026-06-30' });
    expect(isOver(h1, TODAY)).toBe(true);
    expect(isOver({ from: '2026-11-01', to: '2026-11-30' }, TODAY)).toBe(false);
    expect(isOver({ from: '2026-10-01', to: '2026-11-19' }, TODAY)).toBe(true);

    const q3 = firstPeriod('quarter', TODAY);
    expect(q3.id).toBe('2026-Q3');
    expect(periodInYear('quarter', 2024, TODAY, q3, false)?.id).toBe('2024-Q3');
    // Going forward from an earlier year to this one: the fourth quarter is not over, the third is.
    const q4 = periodInYear('quarter', 2025, TODAY, { ...q3, index: 4, id: '2025-Q4' }, false);
    expect(q4?.id).toBe('2025-Q4');
    expect(periodInYear('quarter', 2026, TODAY, q4, false)?.id).toBe('2026-Q3');
    expect(periodInYear('year', 2027, TODAY, null, false)).toBeNull();
  });
});

describe("a refusal's details", () => {
  it('lists the problems of a mapping in row order, the whole file first, skipping what is not a problem', () => {
    const details = [
      { index: 0, op_seq: null, field: 'row 12: uid', code: 'malformed_uid', message: 'bad uid' },
      'not an object',
      { field: 'row 3: key', code: 'unknown_site', message: 'no site' },
      { field: 'row 0: data_set', code: 'missing', message: 'no data_set row' },
      { field: 'row 3: cell', code: 'unknown_cell', message: 'no cell' },
      { field: 'row 9: key' },
    ];
    expect(problemsOf(details).map((p) => p.field)).toEqual(['row 0: data_set', 'row 3: key', 'row 3: cell', 'row 12: uid']);
    expect(problemsOf(undefined)).toEqual([]);
    expect(problemsOf([{ message: 'no field' }])).toEqual([{ field: '', code: '', message: 'no field' }]);
  });

  it('finds the problem with a field', () => {
    const details = [{ field: 'url', code: 'invalid_url', message: 'use https' }];
    expect(problemWith(details, 'url')).toBe('use https');
    expect(problemWith(details, 'token')).toBeNull();
  });
});

describe('small helpers', () => {
  it('checks UIDs, splits cells and names who saved', () => {
    expect(isUid('aKpPrevTot1')).toBe(true);
    expect(isUid('1KpPrevTot1')).toBe(false);
    expect(isUid('aKpPrevTot')).toBe(false);
    expect(isUid('aKp-revTot1')).toBe(false);
    expect(cellParts('kp_type=pwid;testing_status=known_positive')).toEqual(['kp_type=pwid', 'testing_status=known_positive']);
    expect(cellParts('')).toEqual([]);
    expect(savedBy('user:amina')).toBe('amina');
    expect(savedBy('cli')).toBe('cli');
  });

  it('offers the sets with a mapping, those that no longer fit last', () => {
    const set = (key: string): SetSummary => ({ key, name: key, source: '', cadence: 'year', indicators: [] });
    const info = (s: string, problem?: string) => ({ set: s, saved_by: 'user:a', saved_ms: 0, values: 1, org_units: 1, ...(problem ? { problem } : {}) });
    const settings: Dhis2Settings = { token_set: true, mappings: [info('c'), info('a', 'renamed'), info('gone')] };
    expect(mappedSets([set('a'), set('b'), set('c')], settings).map((m) => m.set.key)).toEqual(['c', 'a']);
  });
});

describe('a preview by site', () => {
  it('groups the values of each site in the order they came', () => {
    const v = (site: string, indicator: string) => ({ site, org_unit: `ou-${site}`, indicator, cell: '', data_element: 'aDataElem01', value: '1' });
    const groups = bySite([v('b', 'x'), v('a', 'x'), v('b', 'y')]);
    expect(groups.map((g) => [g.site, g.orgUnit, g.values.map((x) => x.indicator)])).toEqual([
      ['b', 'ou-b', ['x', 'y']],
      ['a', 'ou-a', ['x']],
    ]);
  });
});
