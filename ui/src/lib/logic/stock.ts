/**
 * Stock levels per commodity, and the movements a worker records on the tablet: deliveries,
 * transfers in and out, write-offs (expired or damaged, lost) and count corrections.
 *
 * How a movement changes the level follows `outpost_device::queries::stock_levels`: received
 * and transfer in add their (positive) quantity; transfer out, expired/damaged and lost subtract
 * theirs; a count correction carries its own sign (the counted quantity minus the level the
 * tablet showed).
 */
import type { Commodity, ExpiringBatch, LevelStatus, StockKind, StockLevel, StockMovementDraft } from '../backend';
import { isValidIsoDate } from './dates';

/**
 * What a row's level means: the device's status by core's rule (`LevelStatus`), or
 * `not_counted` when nothing was ever recorded for it at this site (no count, delivery or
 * distribution): a zero there is not known to be zero, so it is not called low.
 */
export type RowStatus = LevelStatus | 'not_counted';

export interface StockRow {
  code: string;
  level: number;
  /** Net of every stock movement (deliveries and transfers in, minus transfers out and write-offs, plus corrections). */
  received: number;
  distributed: number;
  threshold: number | null;
  unitsPerPack: number;
  status: RowStatus;
  /** Batches received here that expire soon or expired lately (the device's list). */
  expiring: ExpiringBatch[];
}

/**
 * One row per catalogue commodity (in catalogue order, zero when nothing moved), then any
 * commodity that has stock but is no longer in the catalogue.
 */
export function stockRows(catalogue: readonly Commodity[], levels: readonly StockLevel[]): StockRow[] {
  const byCode = new Map(levels.map((l) => [l.commodity, l]));
  // A retired commodity keeps its row only while stock of it is left to count or hand out.
  const shown = catalogue.filter((c) => !c.retired || (byCode.get(c.code)?.level ?? 0) !== 0);
  const rows: StockRow[] = shown.map((c) => {
    const l = byCode.get(c.code);
    return {
      code: c.code,
      level: l?.level ?? 0,
      received: l?.received ?? 0,
      distributed: l?.distributed ?? 0,
      threshold: l?.threshold ?? c.low_stock_threshold,
      unitsPerPack: c.units_per_pack,
      status: l?.status ?? 'not_counted',
      expiring: l?.expiring ?? [],
    };
  });
  const known = new Set(catalogue.map((c) => c.code));
  for (const l of levels) {
    if (!known.has(l.commodity)) {
      rows.push({
        code: l.commodity,
        level: l.level,
        received: l.received,
        distributed: l.distributed,
        threshold: l.threshold,
        unitsPerPack: 1,
        status: l.status,
        expiring: l.expiring,
      });
    }
  }
  return rows;
}

/** Rows the worker should look at: low, or needing a count. */
export function needsAttention(row: Pick<StockRow, 'status'>): boolean {
  return row.status === 'low' || row.status === 'count_needed';
}

/**
 * Whether this site's stock was never counted or received on this tablet's site (a new site or
 * tablet): the screen then asks for the opening count first, as every level would be wrong.
 */
export function openingCountNeeded(rows: readonly Pick<StockRow, 'received'>[]): boolean {
  return rows.length > 0 && rows.every((r) => r.received === 0);
}

/**
 * The largest quantity one movement (or one counted quantity) may have on the tablet. Stock
 * comes in cartons, so this is wider than the 10 000 of a distribution line; the server accepts
 * up to 1 000 000, which leaves room for the difference of a count correction.
 */
export const MAX_STOCK_QUANTITY = 100_000;
/** What the server accepts for a stock movement's quantity, either sign. */
export const SERVER_STOCK_LIMIT = 1_000_000;

/** Kinds that add to the level, kinds that take from it, and the one that sets it. */
export const INFLOW_KINDS = ['received', 'transfer_in'] as const satisfies readonly StockKind[];
export const OUTFLOW_KINDS = ['transfer_out', 'expired_damaged', 'lost'] as const satisfies readonly StockKind[];

export type Direction = 'in' | 'out' | 'count';

export function directionOf(kind: StockKind): Direction {
  if ((INFLOW_KINDS as readonly StockKind[]).includes(kind)) return 'in';
  if ((OUTFLOW_KINDS as readonly StockKind[]).includes(kind)) return 'out';
  return 'count';
}

/** The optional details worth asking for each kind (what a delivery note or a write-off names). */
export function detailsFor(kind: StockKind | null): { batch: boolean; expiry: boolean; grant: boolean } {
  switch (kind) {
    case 'received':
    case 'transfer_in':
      return { batch: true, expiry: true, grant: true };
    case 'expired_damaged':
      return { batch: true, expiry: true, grant: false };
    default:
      return { batch: false, expiry: false, grant: false };
  }
}

export interface MovementInput {
  commodity: string | null;
  kind: StockKind | null;
  /** The quantity moved; for a count correction, the quantity counted on the shelf. */
  quantity: number;
  batch: string;
  expiryDate: string;
  grantCode: string;
}

export type MovementProblem =
  | 'commodity'
  | 'kind'
  | 'quantity'
  | 'counted'
  | 'expiry'
  /** The count matches the level: there is nothing to correct. */
  | 'nothing_to_correct'
  /** The level is so far off that the difference is beyond what the server accepts. */
  | 'correction_too_large';

function isQuantity(n: number, min: number): boolean {
  return Number.isInteger(n) && n >= min && n <= MAX_STOCK_QUANTITY;
}

/** How the movement changes the level the tablet shows (`level` is the current one). */
export function levelChange(input: Pick<MovementInput, 'kind' | 'quantity'>, level: number): number {
  if (!input.kind) return 0;
  switch (directionOf(input.kind)) {
    case 'in':
      return input.quantity;
    case 'out':
      return -input.quantity;
    case 'count':
      return input.quantity - level;
  }
}

/** The first thing to fix before the movement can be saved, or null. */
export function movementProblem(input: MovementInput, level: number): MovementProblem | null {
  if (!input.commodity) return 'commodity';
  if (!input.kind) return 'kind';
  if (input.kind === 'count_correction') {
    if (!isQuantity(input.quantity, 0)) return 'counted';
    const change = levelChange(input, level);
    if (change === 0) return 'nothing_to_correct';
    if (Math.abs(change) > SERVER_STOCK_LIMIT) return 'correction_too_large';
  } else if (!isQuantity(input.quantity, 1)) {
    return 'quantity';
  }
  const expiry = input.expiryDate.trim();
  if (detailsFor(input.kind).expiry && expiry && !isValidIsoDate(expiry)) return 'expiry';
  return null;
}

/**
 * Whether the worker must confirm first: an outflow larger than what the tablet shows in stock
 * (possible when a delivery was not recorded yet, but usually a typing mistake).
 */
export function needsConfirmation(input: Pick<MovementInput, 'kind' | 'quantity'>, level: number): boolean {
  return input.kind !== null && directionOf(input.kind) === 'out' && input.quantity > Math.max(0, level);
}

/**
 * The `record_stock_movement` payload: outflows keep a positive quantity (the kind says it goes
 * out), a count correction sends the signed difference, and blank or irrelevant details are left
 * out. Call only when {@link movementProblem} found nothing.
 */
export function movementDraft(input: MovementInput, level: number): StockMovementDraft & { kind: StockKind } {
  if (!input.commodity || !input.kind) throw new Error('movementDraft called on an incomplete movement');
  const quantity = input.kind === 'count_correction' ? levelChange(input, level) : input.quantity;
  const draft: StockMovementDraft & { kind: StockKind } = { commodity: input.commodity, quantity, kind: input.kind };
  const ask = detailsFor(input.kind);
  const batch = input.batch.trim();
  const expiry = input.expiryDate.trim();
  const grant = input.grantCode.trim();
  if (ask.batch && batch) draft.batch = batch;
  if (ask.expiry && expiry) draft.expiry_date = expiry;
  if (ask.grant && grant) draft.grant_code = grant;
  return draft;
}
