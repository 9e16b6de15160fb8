/**
 * The donor reports page's pure logic: the periods donors report on (months, calendar quarters
 * and half-years, the US fiscal half-years PEPFAR uses, years), the default period for a set's
 * cadence, which set is shown first, and a report's tables shaped for display (a list of rows
 * for one dimension, a grid for two). "Today" is a parameter.
 */
import type { Cadence, DimensionOut, SetSummary, Table, TableCell } from '../api';
import { daysInMonth, presetPeriod, type Period } from './period';

/** Kinds of period, shortest first (the server's `Cadence`). */
export const CADENCES = ['month', 'quarter', 'half_year', 'year'] as const satisfies readonly Cadence[];

/** The programme's own set; the page opens on the first donor set, after it. */
export const PROGRAMME_SET = 'programme';

/** How many years back the period picker goes (this year included). */
export const YEARS_OFFERED = 6;

/** A period the picker offers. */
export interface PeriodOption extends Period {
  /** `2026-07`, `2026-Q3`, `2026-H2`, `FY2027-H1` (October 2026–March 2027), `2026`. */
  id: string;
  kind: Cadence;
  /** The year the option is listed under: the year it starts in. */
  year: number;
  /** Month 1–12, quarter 1–4, half 1–2; 1 for a year. */
  index: number;
  /** A US fiscal half-year (October–March, April–September). */
  fiscal: boolean;
  /** The option's last day; `to` is today instead while it is still running. */
  end: string;
  /** Starts after today (the server refuses it). */
  future: boolean;
  /** Not over yet: `to` is today. */
  running: boolean;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function ymd(y: number, m: number, d: number): string {
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

/** Months `m`…`m + count - 1` of year `y` as dates (the months may run into the next year). */
function months(y: number, m: number, count: number): Period {
  const lastIndex = y * 12 + (m - 1) + count - 1;
  const ey = Math.floor(lastIndex / 12);
  const em = (lastIndex % 12) + 1;
  return { from: ymd(y, m, 1), to: ymd(ey, em, daysInMonth(ey, em)) };
}

function option(id: string, kind: Cadence, year: number, index: number, fiscal: boolean, span: Period, today: string): PeriodOption {
  const running = span.from <= today && today < span.to;
  return {
    id,
    kind,
    year,
    index,
    fiscal,
    from: span.from,
    to: running ? today : span.to,
    end: span.to,
    future: span.from > today,
    running,
  };
}

/**
 * The periods of a kind that start in `year`, in order. Half-years are the calendar ones (H1,
 * H2) and, with `fiscal`, the US fiscal ones: April–September of `year` (the second half of
 * fiscal year `year`) and October `year`–March `year + 1` (the first half of fiscal year
 * `year + 1`).
 */
export function periodOptions(kind: Cadence, year: number, today: string, options: { fiscal?: boolean } = {}): PeriodOption[] {
  switch (kind) {
    case 'month':
      return Array.from({ length: 12 }, (_, i) => option(`${pad(year, 4)}-${pad(i + 1)}`, kind, year, i + 1, false, months(year, i + 1, 1), today));
    case 'quarter':
      return [1, 2, 3, 4].map((q) => option(`${pad(year, 4)}-Q${q}`, kind, year, q, false, months(year, q * 3 - 2, 3), today));
    case 'half_year': {
      const calendar = [1, 2].map((h) => option(`${pad(year, 4)}-H${h}`, kind, year, h, false, months(year, h * 6 - 5, 6), today));
      if (!options.fiscal) return calendar;
      return [
        ...calendar,
        option(`FY${pad(year, 4)}-H2`, kind, year, 2, true, months(year, 4, 6), today),
        option(`FY${pad(year + 1, 4)}-H1`, kind, year, 1, true, months(year, 10, 6), today),
      ];
    }
    case 'year':
      return [option(pad(year, 4), kind, year, 1, false, months(year, 1, 12), today)];
  }
}

function yearOf(date: string): number {
  return Number(date.slice(0, 4));
}

/** The years the picker lists, newest first. */
export function yearsOffered(today: string, count = YEARS_OFFERED): number[] {
  const y = yearOf(today);
  return Array.from({ length: count }, (_, i) => y - i);
}

/**
 * The last period of a kind that is over by today (the month, quarter, half-year or year
 * before the current one); with `fiscal`, the last US fiscal half-year.
 */
export function previousPeriod(kind: Cadence, today: string, options: { fiscal?: boolean } = {}): PeriodOption {
  const y = yearOf(today);
  const fiscal = kind === 'half_year' && (options.fiscal ?? false);
  const candidates = [y - 2, y - 1, y]
    .flatMap((year) => periodOptions(kind, year, today, { fiscal }))
    .filter((o) => o.fiscal === fiscal && o.end < today);
  return candidates.reduce((latest, o) => (o.end > latest.end ? o : latest));
}

/**
 * The option whose dates are `period` (a running one ends today), or null. Running periods of
 * different kinds can have the same dates (1 January to today is the first quarter, half-year
 * and year so far): the `prefer`red kind is tried first.
 */
export function findOption(period: Period, today: string, prefer?: Cadence): PeriodOption | null {
  const kinds = prefer ? [prefer, ...CADENCES.filter((k) => k !== prefer)] : [...CADENCES];
  for (const kind of kinds) {
    const found = periodOptions(kind, yearOf(period.from), today, { fiscal: true }).find(
      (o) => !o.future && o.from === period.from && o.to === period.to,
    );
    if (found) return found;
  }
  return null;
}

/**
 * Whether the page keeps the report filter's period when it opens: when the picker offers it and
 * it is not the dashboard's default (this month so far), which nobody chose for a donor.
 */
export function keepsPeriod(period: Period, today: string): boolean {
  const thisMonth = presetPeriod('this_month', today);
  if (period.from === thisMonth.from && period.to === thisMonth.to) return false;
  return findOption(period, today) !== null;
}

/** The set shown first: the one named in the address, else the first donor set. */
export function initialSet(sets: readonly SetSummary[], wanted: string | null): SetSummary | null {
  return sets.find((s) => s.key === wanted) ?? sets.find((s) => s.key !== PROGRAMME_SET) ?? sets[0] ?? null;
}

// Tables ----------------------------------------------------------------------------------------

export interface Labelled {
  key: string;
  label: string;
}

export type ShownCell = Pick<TableCell, 'value' | 'suppressed'>;

/** A cell the server did not list (it lists every one): shown as "no value". */
const MISSING: ShownCell = { value: null, suppressed: false };

export type ShapedTable =
  | { kind: 'list'; dimension: Labelled; rows: (Labelled & { cell: ShownCell })[] }
  | { kind: 'grid'; rows: Labelled; columns: Labelled; columnCategories: Labelled[]; lines: (Labelled & { cells: ShownCell[] })[] };

/** A dimension's label and categories from the report, or made up from the cells' keys. */
function dimensionOf(table: Table, position: number, dimensions: readonly DimensionOut[]): Labelled & { categories: Labelled[] } {
  const key = table.dimensions[position];
  const known = dimensions.find((d) => d.key === key);
  if (known) return { key, label: known.label, categories: known.categories };
  const seen = [...new Set(table.cells.map((c) => c.keys[position]))];
  return { key, label: key, categories: seen.map((k) => ({ key: k, label: k })) };
}

/**
 * A table as it is shown: one dimension as rows (category → value), two as a grid (the first
 * dimension's categories as rows, the second's as columns), in the categories' order.
 */
export function shapeTable(table: Table, dimensions: readonly DimensionOut[]): ShapedTable {
  const byKeys = new Map(table.cells.map((c) => [c.keys.join('\u0000'), c]));
  const cellAt = (...keys: string[]): ShownCell => {
    const found = byKeys.get(keys.join('\u0000'));
    return found ? { value: found.value, suppressed: found.suppressed } : MISSING;
  };
  const first = dimensionOf(table, 0, dimensions);
  if (table.dimensions.length < 2) {
    return {
      kind: 'list',
      dimension: { key: first.key, label: first.label },
      rows: first.categories.map((c) => ({ key: c.key, label: c.label, cell: cellAt(c.key) })),
    };
  }
  const second = dimensionOf(table, 1, dimensions);
  return {
    kind: 'grid',
    rows: { key: first.key, label: first.label },
    columns: { key: second.key, label: second.label },
    columnCategories: second.categories.map((c) => ({ key: c.key, label: c.label })),
    lines: first.categories.map((r) => ({ key: r.key, label: r.label, cells: second.categories.map((c) => cellAt(r.key, c.key)) })),
  };
}
