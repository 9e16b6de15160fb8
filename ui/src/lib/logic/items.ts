/**
 * Lists of commodities with quantities, as the kit editors hold them. Rows keep the order the
 * worker sees; a row may sit at zero while being edited, and zero rows are dropped on save.
 */
import type { CommodityCode, ItemQuantity, KitTemplate } from '../backend';
import { clampQuantity } from './stepper';

/** Sets one commodity's quantity, adding a row at the end if it is new. */
export function setQuantity(items: ItemQuantity[], commodity: CommodityCode, quantity: number): ItemQuantity[] {
  const q = clampQuantity(quantity);
  if (items.some((i) => i.commodity === commodity)) {
    return items.map((i) => (i.commodity === commodity ? { commodity, quantity: q } : i));
  }
  return [...items, { commodity, quantity: q }];
}

/** Removes a row. */
export function removeItem(items: ItemQuantity[], commodity: CommodityCode): ItemQuantity[] {
  return items.filter((i) => i.commodity !== commodity);
}

/** A fresh, editable copy of a template's items. */
export function itemsFromTemplate(template: KitTemplate): ItemQuantity[] {
  return toPayloadItems(template.items);
}

/**
 * What is sent: positive quantities only, one row per commodity (duplicates added up), each
 * within 1–10 000.
 */
export function toPayloadItems(items: readonly ItemQuantity[]): ItemQuantity[] {
  const out: ItemQuantity[] = [];
  for (const item of items) {
    const q = clampQuantity(item.quantity);
    if (q <= 0) continue;
    const existing = out.find((o) => o.commodity === item.commodity);
    if (existing) existing.quantity = clampQuantity(existing.quantity + q);
    else out.push({ commodity: item.commodity, quantity: q });
  }
  return out;
}

/** Total number of units in a list (for summaries). */
export function totalUnits(items: readonly ItemQuantity[]): number {
  return items.reduce((sum, i) => sum + Math.max(0, i.quantity), 0);
}

/** Whether two lists give the same thing (order ignored, zero rows ignored). */
export function sameItems(a: readonly ItemQuantity[], b: readonly ItemQuantity[]): boolean {
  const norm = (list: readonly ItemQuantity[]) =>
    toPayloadItems(list)
      .map((i) => `${i.commodity}:${i.quantity}`)
      .sort()
      .join(',');
  return norm(a) === norm(b);
}
