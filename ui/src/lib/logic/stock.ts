/** Stock levels per commodity and deliveries received. */
import type { Commodity, StockLevel, StockMovementDraft } from '../backend';
import { isValidIsoDate } from './dates';
import { MAX_QUANTITY } from './stepper';

export interface StockRow {
  code: string;
  level: number;
  received: number;
  distributed: number;
  threshold: number | null;
  unitsPerPack: number;
}

/**
 * One row per catalogue commodity (in catalogue order, zero when nothing moved), then any
 * commodity that has stock but is no longer in the catalogue.
 */
export function stockRows(catalogue: readonly Commodity[], levels: readonly StockLevel[]): StockRow[] {
  const byCode = new Map(levels.map((l) => [l.commodity, l]));
  const rows: StockRow[] = catalogue.map((c) => {
    const l = byCode.get(c.code);
    return {
      code: c.code,
      level: l?.level ?? 0,
      received: l?.received ?? 0,
      distributed: l?.distributed ?? 0,
      threshold: c.low_stock_threshold,
      unitsPerPack: c.units_per_pack,
    };
  });
  const known = new Set(catalogue.map((c) => c.code));
  for (const l of levels) {
    if (!known.has(l.commodity)) {
      rows.push({ code: l.commodity, level: l.level, received: l.received, distributed: l.distributed, threshold: null, unitsPerPack: 1 });
    }
  }
  return rows;
}

/** Low when below the commodity's threshold; commodities without one are never low. */
export function isLow(row: Pick<StockRow, 'level' | 'threshold'>): boolean {
  return row.threshold !== null && row.level < row.threshold;
}

export interface DeliveryInput {
  commodity: string;
  quantity: number;
  batch: string;
  expiryDate: string;
  grantCode: string;
}

export type DeliveryProblem = 'quantity' | 'expiry';

export function deliveryProblem(input: DeliveryInput): DeliveryProblem | null {
  if (!Number.isInteger(input.quantity) || input.quantity < 1 || input.quantity > MAX_QUANTITY) return 'quantity';
  if (input.expiryDate.trim() && !isValidIsoDate(input.expiryDate.trim())) return 'expiry';
  return null;
}

/** A delivery received: optional texts left out when blank. */
export function deliveryDraft(input: DeliveryInput): StockMovementDraft {
  const draft: StockMovementDraft = { commodity: input.commodity, quantity: input.quantity, kind: 'received' };
  const batch = input.batch.trim();
  const expiry = input.expiryDate.trim();
  const grant = input.grantCode.trim();
  if (batch) draft.batch = batch;
  if (expiry) draft.expiry_date = expiry;
  if (grant) draft.grant_code = grant;
  return draft;
}
