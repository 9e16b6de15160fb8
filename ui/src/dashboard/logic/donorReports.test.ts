import { describe, expect, it } from 'vitest';
import type { DimensionOut, SetSummary, Table } from '../api';
import { findOption, initialSet, keepsPeriod, periodOptions, previousPeriod, shapeTable, yearsOffered } from './donorReports';

const span = (o: { from: string; to: string }) => `${o.from}..${o.to}`;

describe('the periods donors report on', () => {
  it.each([
    ['month', '2026-11-01..2026-11-30'],
    ['quarter', '2026-07-01..2026-09-30'],
    ['half_year', '2026-01-01..2026-06-30'],
    ['year', '2025-01-01..2025-12-31'],
  ] as const)('default to the last %s that is over (6 Dec 2026: %s)', (kind, expected) => {
    expect(span(previousPeriod(kind, '2026-12-06'))).toBe(expected);
  });

  it('cross year boundaries, and count a period as over only after its last day', () => {
    expect(span(previousPeriod('quarter', '2026-02-03'))).toBe('2025-10-01..2025-12-31');
    expect(span(previousPeriod('month', '2026-01-01'))).toBe('2025-12-01..2025-12-31');
    expect(span(previousPeriod('half_year', '2026-03-15'))).toBe('2025-07-01..2025-12-31');
    expect(span(previousPeriod('quarter', '2026-09-30'))).toBe('2026-04-01..2026-06-30');
    expect(span(previousPeriod('quarter', '2026-10-01'))).toBe('2026-07-01..2026-09-30');
    expect(span(previousPeriod('month', '2028-03-10'))).toBe('2028-02-01..2028-02-29');
  });

  it('give the US fiscal half-years (October–March, April–September)', () => {
    expect(span(previousPeriod('half_year', '2026-12-06', { fiscal: true }))).toBe('2026-04-01..2026-09-30');
    expect(span(previousPeriod('half_year', '2026-05-02', { fiscal: true }))).toBe('2025-10-01..2026-03-31');
    // Only half-years have fiscal ones.
    expect(span(previousPeriod('quarter', '2026-12-06', { fiscal: true }))).toBe('2026-07-01..2026-09-30');
    const halves = periodOptions('half_year', 2026, '2026-12-06', { fiscal: true });
    expect(halves.map((o) => [o.id, span(o), o.fiscal])).toEqual([
      ['2026-H1', '2026-01-01..2026-06-30', false],
      ['2026-H2', '2026-07-01..2026-12-06', false],
      ['FY2026-H2', '2026-04-01..2026-09-30', true],
      ['FY2027-H1', '2026-10-01..2026-12-06', true],
    ]);
    expect(periodOptions('half_year', 2026, '2026-12-06').map((o) => o.id)).toEqual(['2026-H1', '2026-H2']);
  });

  it('list months, quarters and years, running ones ending today and future ones marked', () => {
    const today = '2026-11-20';
    const quarters = periodOptions('quarter', 2026, today);
    expect(quarters.map((o) => [o.id, span(o), o.running, o.future])).toEqual([
      ['2026-Q1', '2026-01-01..2026-03-31', false, false],
      ['2026-Q2', '2026-04-01..2026-06-30', false, false],
      ['2026-Q3', '2026-07-01..2026-09-30', false, false],
      ['2026-Q4', '2026-10-01..2026-11-20', true, false],
    ]);
    expect(quarters[3].end).toBe('2026-12-31');
    const monthsOf2026 = periodOptions('month', 2026, today);
    expect(monthsOf2026).toHaveLength(12);
    expect(span(monthsOf2026[1])).toBe('2026-02-01..2026-02-28');
    expect(monthsOf2026[11].future).toBe(true);
    expect(periodOptions('year', 2025, today).map((o) => [o.id, span(o)])).toEqual([['2025', '2025-01-01..2025-12-31']]);
    expect(yearsOffered(today)).toEqual([2026, 2025, 2024, 2023, 2022, 2021]);
  });

  it('recognise a period from its dates, the preferred kind first', () => {
    const today = '2026-11-20';
    expect(findOption({ from: '2026-07-01', to: '2026-09-30' }, today)?.id).toBe('2026-Q3');
    expect(findOption({ from: '2025-10-01', to: '2026-03-31' }, today)?.id).toBe('FY2026-H1');
    expect(findOption({ from: '2026-01-01', to: '2026-11-20' }, today)?.id).toBe('2026');
    expect(findOption({ from: '2026-10-01', to: '2026-11-20' }, today)?.id).toBe('2026-Q4');
    expect(findOption({ from: '2026-10-01', to: '2026-11-20' }, today, 'half_year')?.id).toBe('FY2027-H1');
    expect(findOption({ from: '2026-10-01', to: '2026-11-19' }, today)).toBeNull();
    expect(findOption({ from: '2026-07-01', to: '2026-08-31' }, today)).toBeNull();
  });

  it("keep the filter's period when the page opens, unless it is the default this month so far", () => {
    const today = '2026-11-20';
    expect(keepsPeriod({ from: '2026-07-01', to: '2026-09-30' }, today)).toBe(true);
    expect(keepsPeriod({ from: '2026-10-01', to: '2026-10-31' }, today)).toBe(true);
    expect(keepsPeriod({ from: '2026-11-01', to: '2026-11-20' }, today)).toBe(false);
    expect(keepsPeriod({ from: '2026-09-01', to: '2026-10-31' }, today)).toBe(false);
  });
});

const summary = (key: string): SetSummary => ({ key, name: key, source: 's', cadence: 'quarter', indicators: [] });

describe('the set shown first', () => {
  it('is the one in the address, else the first donor set', () => {
    const sets = ['programme', 'who_nsp', 'pepfar_kp_prev'].map(summary);
    expect(initialSet(sets, 'pepfar_kp_prev')?.key).toBe('pepfar_kp_prev');
    expect(initialSet(sets, null)?.key).toBe('who_nsp');
    expect(initialSet(sets, 'gone')?.key).toBe('who_nsp');
    expect(initialSet([summary('programme')], null)?.key).toBe('programme');
    expect(initialSet([], null)).toBeNull();
  });
});

describe('report tables', () => {
  const dimensions: DimensionOut[] = [
    { key: 'kp_type', kind: 'categories', label: 'Key population type', categories: [{ key: 'pwid', label: 'PWID' }, { key: 'tg', label: 'TG' }] },
    {
      key: 'testing_status',
      kind: 'categories',
      label: 'Testing services',
      categories: [
        { key: 'known_positive', label: 'Known positive' },
        { key: 'newly_tested', label: 'Newly tested' },
        { key: 'declined', label: 'Declined' },
      ],
    },
  ];

  it('show one dimension as rows in the categories’ order', () => {
    const table: Table = {
      dimensions: ['kp_type'],
      cells: [
        { keys: ['tg'], value: null, suppressed: true },
        { keys: ['pwid'], value: 120, suppressed: false },
      ],
    };
    expect(shapeTable(table, dimensions)).toEqual({
      kind: 'list',
      dimension: { key: 'kp_type', label: 'Key population type' },
      rows: [
        { key: 'pwid', label: 'PWID', cell: { value: 120, suppressed: false } },
        { key: 'tg', label: 'TG', cell: { value: null, suppressed: true } },
      ],
    });
  });

  it('show two dimensions as a grid: the first as rows, the second as columns', () => {
    const table: Table = {
      dimensions: ['kp_type', 'testing_status'],
      cells: [
        { keys: ['pwid', 'known_positive'], value: 7, suppressed: false },
        { keys: ['pwid', 'newly_tested'], value: 113, suppressed: false },
        { keys: ['pwid', 'declined'], value: 0, suppressed: false },
        { keys: ['tg', 'known_positive'], value: null, suppressed: true },
        { keys: ['tg', 'newly_tested'], value: null, suppressed: true },
      ],
    };
    const shaped = shapeTable(table, dimensions);
    if (shaped.kind !== 'grid') throw new Error('a grid expected');
    expect(shaped.rows.label).toBe('Key population type');
    expect(shaped.columns.label).toBe('Testing services');
    expect(shaped.columnCategories.map((c) => c.label)).toEqual(['Known positive', 'Newly tested', 'Declined']);
    expect(shaped.lines.map((l) => [l.label, ...l.cells.map((c) => (c.suppressed ? '<5' : c.value))])).toEqual([
      ['PWID', 7, 113, 0],
      // A cell the server did not list has no value.
      ['TG', '<5', '<5', null],
    ]);
  });

  it('fall back to the keys for a dimension the report does not describe', () => {
    const table: Table = { dimensions: ['colour'], cells: [{ keys: ['red'], value: 3, suppressed: false }] };
    expect(shapeTable(table, dimensions)).toEqual({
      kind: 'list',
      dimension: { key: 'colour', label: 'colour' },
      rows: [{ key: 'red', label: 'red', cell: { value: 3, suppressed: false } }],
    });
  });
});
