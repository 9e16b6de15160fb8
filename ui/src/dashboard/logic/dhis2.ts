/**
 * The DHIS2 page's pure logic (docs/dhis2.md): DHIS2's and ADX's names of a period (the
 * server's `dhis2::period`, which decides; the page and the fake server use this one), what a
 * refusal's details say (a mapping's bad rows, a connection's bad fields), the sets that can be
 * sent, and a value's table cell in parts. "Today" is a parameter.
 */
import type { Cadence, Dhis2Settings, MappingInfo, OutValue, SetSummary } from '../api';
import { periodOptions, previousPeriod, type PeriodOption } from './donorReports';
import { daysInMonth, type Period } from './period';

/** The first row of a mapping file. */
export const MAPPING_HEADER = 'kind,key,cell,uid,category_option_combo,attribute_option_combo';

/** A period both ways: DHIS2's identifier (`2026Q3`) and ADX's start/duration (`2026-07-01/P3M`). */
export interface Dhis2Period {
  dhis2: string;
  adx: string;
}

/**
 * DHIS2's period for the dates, or null when DHIS2 keeps no data for that span: a month, a
 * quarter, a calendar half-year, an April half-year (PEPFAR's fiscal halves), a calendar year,
 * or a financial year from October.
 */
export function dhis2Period(period: Period): Dhis2Period | null {
  const [y, m, d] = period.from.split('-').map(Number);
  const [ty, tm, td] = period.to.split('-').map(Number);
  if (![y, m, d, ty, tm, td].every(Number.isInteger) || d !== 1) return null;
  const spans = (months: number): boolean => {
    const last = y * 12 + (m - 1) + months - 1;
    const ey = Math.floor(last / 12);
    const em = (last % 12) + 1;
    return ty === ey && tm === em && td === daysInMonth(ey, em);
  };
  const adx = (months: number) => `${period.from}/${months === 12 ? 'P1Y' : `P${months}M`}`;
  if (spans(1)) return { dhis2: `${y}${String(m).padStart(2, '0')}`, adx: adx(1) };
  if (spans(3) && [1, 4, 7, 10].includes(m)) return { dhis2: `${y}Q${(m + 2) / 3}`, adx: adx(3) };
  if (spans(6) && (m === 1 || m === 7)) return { dhis2: `${y}S${m === 1 ? 1 : 2}`, adx: adx(6) };
  if (spans(6) && m === 4) return { dhis2: `${y}AprilS1`, adx: adx(6) };
  if (spans(6) && m === 10) return { dhis2: `${y}AprilS2`, adx: adx(6) };
  if (spans(12) && m === 1) return { dhis2: `${y}`, adx: adx(12) };
  if (spans(12) && m === 10) return { dhis2: `${y}Oct`, adx: adx(12) };
  return null;
}

/** Whether a period is over by `today` (DHIS2 is sent only periods that are). */
export function isOver(period: Period, today: string): boolean {
  return period.to < today;
}

/** The period a send starts on: the last one of the set's cadence that is over. */
export function firstPeriod(cadence: Cadence, today: string): PeriodOption {
  return previousPeriod(cadence, today);
}

/**
 * The period to show when another year is chosen: the same month, quarter or half of that year
 * when it is over, else that year's latest one that is over; null when none is.
 */
export function periodInYear(kind: Cadence, year: number, today: string, current: PeriodOption | null, fiscal: boolean): PeriodOption | null {
  const over = periodOptions(kind, year, today, { fiscal }).filter((o) => isOver({ from: o.from, to: o.end }, today));
  return over.find((o) => current && o.index === current.index && o.fiscal === current.fiscal) ?? over.at(-1) ?? null;
}

/** Whether a DHIS2 identifier has its shape: 11 letters and digits, a letter first. */
export function isUid(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9]{10}$/.test(text);
}

/** A table cell (`kp_type=pwid;testing_status=known_positive`) as its `dimension=category` parts. */
export function cellParts(cell: string): string[] {
  return cell
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** One refused field or row of a refusal's `details`. */
export interface Problem {
  /** `url`, `token`, `row 9: key`, `packages`… */
  field: string;
  code: string;
  message: string;
}

/** The problems of a refusal's details, rows in file order (a problem of the whole file first). */
export function problemsOf(details: readonly unknown[] | undefined): Problem[] {
  const problems: Problem[] = [];
  for (const d of details ?? []) {
    if (!d || typeof d !== 'object') continue;
    const { field, code, message } = d as Record<string, unknown>;
    if (typeof message !== 'string') continue;
    problems.push({ field: typeof field === 'string' ? field : '', code: typeof code === 'string' ? code : '', message });
  }
  const row = (p: Problem) => Number(/^row (\d+):/.exec(p.field)?.[1] ?? Number.POSITIVE_INFINITY);
  return problems.map((p, i) => ({ p, i })).sort((a, b) => row(a.p) - row(b.p) || a.i - b.i).map(({ p }) => p);
}

/** The message of the problem with a field (`url`, `token`), if the refusal names it. */
export function problemWith(details: readonly unknown[] | undefined, field: string): string | null {
  return problemsOf(details).find((p) => p.field === field)?.message ?? null;
}

/** Who saved a mapping, without the actor's kind (`user:amina` → `amina`). */
export function savedBy(actor: string): string {
  return actor.replace(/^user:/, '');
}

/** A set with its saved mapping, for the send form. */
export interface MappedSet {
  set: SetSummary;
  mapping: MappingInfo;
}

/** The sets that have a mapping, in the sets' order; those whose mapping no longer fits last. */
export function mappedSets(sets: readonly SetSummary[], settings: Dhis2Settings): MappedSet[] {
  const found = sets.flatMap((set) => {
    const mapping = settings.mappings.find((m) => m.set === set.key);
    return mapping ? [{ set, mapping }] : [];
  });
  return [...found.filter((m) => !m.mapping.problem), ...found.filter((m) => m.mapping.problem)];
}

/** A preview's values by site (each site is its own organisation unit), in the server's order. */
export function bySite(values: readonly OutValue[]): { site: string; orgUnit: string; values: OutValue[] }[] {
  const groups: { site: string; orgUnit: string; values: OutValue[] }[] = [];
  for (const v of values) {
    const group = groups.find((g) => g.site === v.site);
    if (group) group.values.push(v);
    else groups.push({ site: v.site, orgUnit: v.org_unit, values: [v] });
  }
  return groups;
}
