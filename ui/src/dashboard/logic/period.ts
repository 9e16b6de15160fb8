/**
 * Reporting periods as calendar dates `YYYY-MM-DD` (both ends inclusive, as the server reads
 * them). Presets are whole calendar months, quarters and years; a period that is still running
 * ends today, so rates scaled to a year (syringes per PWID) are not diluted by days to come.
 * Pure functions: "today" is a parameter.
 */
import { isValidIsoDate } from '../../lib/logic/dates';

export const PRESETS = ['this_month', 'last_month', 'this_quarter', 'last_quarter', 'this_year', 'last_year', 'custom'] as const;
export type Preset = (typeof PRESETS)[number];

export interface Period {
  from: string;
  to: string;
}

interface Ymd {
  y: number;
  m: number; // 1–12
  d: number;
}

function parse(date: string): Ymd {
  const [y, m, d] = date.split('-').map(Number);
  return { y, m, d };
}

function text({ y, m, d }: Ymd): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${String(y).padStart(4, '0')}-${p(m)}-${p(d)}`;
}

export function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Month `m` of year `y` moved by `delta` months (m is 1–12). */
function shiftMonth(y: number, m: number, delta: number): { y: number; m: number } {
  const index = y * 12 + (m - 1) + delta;
  return { y: Math.floor(index / 12), m: (index % 12) + 1 };
}

function monthRange(y: number, m: number, months = 1): Period {
  const end = shiftMonth(y, m, months - 1);
  return { from: text({ y, m, d: 1 }), to: text({ y: end.y, m: end.m, d: daysInMonth(end.y, end.m) }) };
}

function min(a: string, b: string): string {
  return a < b ? a : b;
}

/** The dates of a preset on `today` (`YYYY-MM-DD`); `custom` has none of its own. */
export function presetPeriod(preset: Exclude<Preset, 'custom'>, today: string): Period {
  const { y, m } = parse(today);
  const quarterStart = m - ((m - 1) % 3);
  const untilToday = (p: Period): Period => ({ from: p.from, to: min(p.to, today) });
  switch (preset) {
    case 'this_month':
      return untilToday(monthRange(y, m));
    case 'last_month': {
      const prev = shiftMonth(y, m, -1);
      return monthRange(prev.y, prev.m);
    }
    case 'this_quarter':
      return untilToday(monthRange(y, quarterStart, 3));
    case 'last_quarter': {
      const prev = shiftMonth(y, quarterStart, -3);
      return monthRange(prev.y, prev.m, 3);
    }
    case 'this_year':
      return untilToday(monthRange(y, 1, 12));
    case 'last_year':
      return monthRange(y - 1, 1, 12);
  }
}

/** The preset whose dates are exactly `period` on `today`, or `custom`. */
export function matchingPreset(period: Period, today: string): Preset {
  for (const preset of PRESETS) {
    if (preset === 'custom') continue;
    const p = presetPeriod(preset, today);
    if (p.from === period.from && p.to === period.to) return preset;
  }
  return 'custom';
}

export type PeriodProblem = 'from_invalid' | 'to_invalid' | 'order' | 'too_long' | 'whole_months';

/** Longest period the dashboard asks for (the server may refuse longer ones as well). */
export const MAX_PERIOD_DAYS = 3 * 366;

/**
 * What is wrong with a custom period typed by a person, or null. While small numbers are hidden
 * (`hidden` gives today's date) a period must be whole months, as the server requires: from the
 * 1st of a month to the last day of a month, or to today (periods a few days apart would give
 * the hidden numbers back by subtraction).
 */
export function periodProblem(period: Period, hidden?: { today: string }): PeriodProblem | null {
  if (!isValidIsoDate(period.from)) return 'from_invalid';
  if (!isValidIsoDate(period.to)) return 'to_invalid';
  if (period.from > period.to) return 'order';
  if (daysBetween(period.from, period.to) + 1 > MAX_PERIOD_DAYS) return 'too_long';
  if (hidden && !isWholeMonths(period, hidden.today)) return 'whole_months';
  return null;
}

/** Whether a period starts on the 1st of a month and ends on a month's last day or runs to today. */
export function isWholeMonths(period: Period, today: string): boolean {
  const to = parse(period.to);
  return parse(period.from).d === 1 && (to.d === daysInMonth(to.y, to.m) || period.to >= today);
}

/** The whole months a period touches (its last month up to today when it runs to today). */
export function wholeMonths(period: Period, today: string): Period {
  const from = parse(period.from);
  const to = parse(period.to);
  const end = text({ y: to.y, m: to.m, d: daysInMonth(to.y, to.m) });
  return { from: text({ y: from.y, m: from.m, d: 1 }), to: period.to >= today ? period.to : end };
}

function utc(date: string): number {
  const { y, m, d } = parse(date);
  return Date.UTC(y, m - 1, d);
}

/** Whole days from `a` to `b` (negative when `b` is earlier). */
export function daysBetween(a: string, b: string): number {
  return Math.round((utc(b) - utc(a)) / 86_400_000);
}

/** `date` moved by whole days. */
export function addDaysIso(date: string, days: number): string {
  const t = new Date(utc(date) + days * 86_400_000);
  return text({ y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() });
}

/**
 * The range of the monthly trend charts: at least the twelve months up to the end of the
 * period, so a one-month report still shows where the month stands.
 */
export function trendPeriod(period: Period, months = 12): Period {
  const { y, m } = parse(period.to);
  const start = shiftMonth(y, m, -(months - 1));
  return { from: min(period.from, text({ y: start.y, m: start.m, d: 1 })), to: period.to };
}

/** `YYYY-MM` of every month touched by the period, in order. */
export function monthsOf(period: Period): string[] {
  const a = parse(period.from);
  const b = parse(period.to);
  const out: string[] = [];
  for (let cur = { y: a.y, m: a.m }; cur.y * 12 + cur.m <= b.y * 12 + b.m; cur = shiftMonth(cur.y, cur.m, 1)) {
    out.push(`${String(cur.y).padStart(4, '0')}-${String(cur.m).padStart(2, '0')}`);
  }
  return out;
}

/** A `YYYY-MM-DD` or `YYYY-MM` text as a Date at local noon (safe to format in any zone). */
export function localDate(date: string): Date {
  const { y, m, d } = parse(date.length === 7 ? `${date}-01` : date);
  return new Date(y, m - 1, d || 1, 12);
}
