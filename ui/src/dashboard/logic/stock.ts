/**
 * The stock page's arrangements of the server's report: levels with the low ones first, the
 * series of the stock-over-time chart (one line per site for a commodity), and signed movement
 * quantities. Pure functions.
 */
import type { StockHistoryPoint, StockLevel, StockMovement } from '../api';

/** Low rows first, then the fewest days left, then by site and item name. */
export function sortLevels(levels: readonly StockLevel[]): StockLevel[] {
  const days = (l: StockLevel) => l.days_left ?? Number.POSITIVE_INFINITY;
  return [...levels].sort(
    (a, b) =>
      Number(b.low) - Number(a.low) ||
      days(a) - days(b) ||
      a.site_name.localeCompare(b.site_name) ||
      a.name.localeCompare(b.name),
  );
}

/** Kinds of movement that take stock out (the quantity is shown with a minus). */
export const OUTFLOW_KINDS: readonly string[] = ['transfer_out', 'expired_damaged', 'expired', 'damaged', 'lost', 'distributed', 'distribution'];

/** The quantity as it changed the level: negative for outflows, as sent for corrections. */
export function signedQuantity(movement: StockMovement): number {
  if (movement.quantity < 0) return movement.quantity;
  return OUTFLOW_KINDS.includes(movement.kind) ? -movement.quantity : movement.quantity;
}

/** Commodities that have history, the low ones first, then by how often they moved. */
export function historyCommodities(history: readonly StockHistoryPoint[], levels: readonly StockLevel[]): string[] {
  const points = new Map<string, number>();
  for (const h of history) points.set(h.commodity, (points.get(h.commodity) ?? 0) + 1);
  const low = new Set(levels.filter((l) => l.low).map((l) => l.commodity));
  return [...points.keys()].sort((a, b) => Number(low.has(b)) - Number(low.has(a)) || points.get(b)! - points.get(a)! || a.localeCompare(b));
}

export interface StockSeries {
  siteId: string;
  /** Level at the end of each date in `dates`; carried forward between movements, null before the first. */
  levels: (number | null)[];
}

/** Every calendar day from `first` to `last` (`YYYY-MM-DD`, both included). */
export function everyDay(first: string, last: string): string[] {
  const out: string[] = [];
  const day = new Date(`${first}T00:00:00Z`);
  const end = new Date(`${last}T00:00:00Z`);
  if (Number.isNaN(day.getTime()) || Number.isNaN(end.getTime())) return [];
  while (day <= end && out.length < 3700) {
    out.push(day.toISOString().slice(0, 10));
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return out;
}

/**
 * One series per site for a commodity, one point per calendar day from the first movement to
 * `today` (or the last movement), so the chart's dates are evenly spaced.
 */
export function stockSeries(
  history: readonly StockHistoryPoint[],
  commodity: string,
  today?: string,
): { dates: string[]; series: StockSeries[] } {
  const points = history.filter((h) => h.commodity === commodity);
  const changed = [...new Set(points.map((p) => p.date))].sort();
  const last = changed.at(-1);
  const end = today && last && today > last ? today : last;
  const dates = changed.length > 0 && end ? everyDay(changed[0], end) : [];
  const sites = [...new Set(points.map((p) => p.site_id))].sort();
  const series = sites.map((siteId) => {
    const byDate = new Map(points.filter((p) => p.site_id === siteId).map((p) => [p.date, p.level]));
    let last: number | null = null;
    const levels = dates.map((d) => {
      const v = byDate.get(d);
      if (v !== undefined) last = v;
      return last;
    });
    return { siteId, levels };
  });
  return { dates, series };
}
