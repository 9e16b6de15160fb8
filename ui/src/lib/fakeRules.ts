/**
 * The device's and core's rules the fake backend mirrors (stock levels and their status, batches
 * expiring, near matches of client codes, which tests wait for linkage to care): each is checked against the real commands' recorded
 * answers (`fakeBackend.test.ts`), so the copy cannot drift unnoticed.
 */
import { EXPIRED_SHOWN_DAYS, EXPIRING_WITHIN_DAYS, type ExpiringBatch, type LevelStatus, type StockMovementDraft } from './backend';

/**
 * How a stock movement changes the level (stock bookkeeping, as `StockKind::direction`):
 * deliveries and transfers in add, transfers out and write-offs subtract, a count correction
 * carries its own sign.
 */
export function fakeLevelChange(m: StockMovementDraft): number {
  return ['transfer_out', 'expired_damaged', 'lost'].includes(m.kind) ? -m.quantity : m.quantity;
}

/**
 * The device's rule (`queries::stock_levels`, core's window): batches received with an expiry
 * date from EXPIRED_SHOWN_DAYS ago to EXPIRING_WITHIN_DAYS ahead, soonest first.
 */
export function fakeExpiring(movements: readonly StockMovementDraft[], commodity: string, nowMs: number): ExpiringBatch[] {
  const day = (offset: number) => new Date(nowMs + offset * 86_400_000).toISOString().slice(0, 10);
  const [from, to] = [day(-EXPIRED_SHOWN_DAYS), day(EXPIRING_WITHIN_DAYS)];
  return movements
    .filter((m) => m.commodity === commodity && ['received', 'transfer_in'].includes(m.kind) && m.expiry_date)
    .filter((m) => m.expiry_date! >= from && m.expiry_date! <= to)
    .map((m) => ({ batch: m.batch ?? null, expiry_date: m.expiry_date!, quantity: m.quantity }))
    .sort((a, b) => a.expiry_date.localeCompare(b.expiry_date));
}

/** Core's rule (`catalogue::LevelStatus::of`), checked against the recorded `stock_levels`. */
export function fakeLevelStatus(level: number, threshold: number | null): LevelStatus {
  if (level < 0) return 'count_needed';
  if (level === 0 || (threshold !== null && level < threshold)) return 'low';
  return 'ok';
}

/** The device's rule (core `uic::edit_distance`): an adjacent swap counts one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The device's rule (core `uic::is_near_match`), for the fake's `near_matches`. */
export function isNearMatch(code: string, candidate: string): boolean {
  if (code === candidate) return false;
  const split = (c: string): [string, number | null] => (/\d\d$/.test(c) ? [c.slice(0, -2), Number(c.slice(-2))] : [c, null]);
  const [head, year] = split(code);
  const [otherHead, otherYear] = split(candidate);
  if (year === null || otherYear === null) return code.slice(-2) === candidate.slice(-2) && editDistance(code, candidate) <= 1;
  const swapped = (y: number) => (y % 10) * 10 + Math.floor(y / 10);
  const yearsNear = (year + 1) % 100 === otherYear || (otherYear + 1) % 100 === year || (year !== otherYear && swapped(year) === otherYear);
  return (year === otherYear && editDistance(head, otherHead) <= 1) || (head === otherHead && yearsNear);
}

/**
 * Core's rule (`TestOutcome::awaits_linkage`): a test with this result waits for its person's
 * linkage to care (treatment, confirmation, antenatal care): a reactive one, of any kind. Checked
 * by the replay of the recorded `open_linkages` (a non-reactive test is not listed) and
 * `record_linkage`.
 */
export function fakeAwaitsLinkage(result: string): boolean {
  return result === 'reactive';
}
