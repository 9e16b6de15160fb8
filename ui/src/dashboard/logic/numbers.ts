/**
 * How the dashboard shows numbers: indicator values by unit, suppressed cells, coverage levels
 * and shares. Pure functions over a BCP 47 locale, so they are tested in every language.
 */
import type { Cell, Coverage, Indicator, Unit } from '../api';
export { COVERAGE_HIGH_ABOVE, DEFAULT_NSP_TARGET } from '../generated/api';

/** What a suppressed cell shows instead of its value (the same in every language and export). */
export const SUPPRESSED_TEXT = '<5';
/** What a value the server could not compute shows. */
export const EMPTY_TEXT = '—';

/**
 * The coverage band the server gave (WHO/UNODC/UNAIDS guide, for syringes per person who
 * injects drugs per year), or none. The bands are the server's: the dashboard never computes them.
 */
export function indicatorCoverage(indicator: Indicator): Coverage | null {
  return indicator.coverage ?? null;
}

/** Fraction digits a unit is shown with. */
function fractionDigits(unit: Unit): number {
  return unit === 'percent' || unit === 'per_pwid_year' ? 1 : 0;
}

/**
 * A number for the unit: percentages with a per-cent sign (values are 0–100), rates with one
 * decimal, counts whole.
 */
export function formatValue(value: number, unit: Unit, locale: string): string {
  if (unit === 'percent') {
    return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(value / 100);
  }
  return new Intl.NumberFormat(locale, { maximumFractionDigits: fractionDigits(unit) }).format(value);
}

export type Display =
  | { kind: 'value'; text: string }
  | { kind: 'suppressed'; text: string }
  | { kind: 'empty'; text: string };

/** What a cell shows: its value, "<5" when suppressed, "—" when there is no value. */
export function displayCell(cell: Pick<Cell, 'value' | 'suppressed'>, unit: Unit, locale: string): Display {
  if (cell.suppressed) return { kind: 'suppressed', text: SUPPRESSED_TEXT };
  if (cell.value === null || !Number.isFinite(cell.value)) return { kind: 'empty', text: EMPTY_TEXT };
  return { kind: 'value', text: formatValue(cell.value, unit, locale) };
}

/** A count (for tables and charts): localised, or "<5" / "—". */
export function displayCount(value: number | null, locale: string, suppressed = false): string {
  return displayCell({ value, suppressed: suppressed || false }, 'people', locale).text;
}

/** `part` of `whole` as a percentage text, or null when it cannot be said. */
export function share(part: number | null, whole: number | null, locale: string): string | null {
  if (part === null || whole === null || whole <= 0) return null;
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(part / whole);
}

/** Sum of the values shown, or null when a cell is hidden (a total would give it away). */
export function visibleTotal(cells: readonly Pick<Cell, 'value' | 'suppressed'>[]): number | null {
  let total = 0;
  for (const c of cells) {
    if (c.suppressed || c.value === null) return null;
    total += c.value;
  }
  return total;
}
