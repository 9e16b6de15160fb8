/**
 * The window quick-log: a returning client usually takes the same kit, so the last kit they
 * received is offered pre-filled and one tap on "Confirm" saves it.
 */
import type { ClientSummary, ContactDraft, ContactSummary, ItemQuantity, Setting } from '../backend';
import { isSameDay } from './dates';
import { toPayloadItems } from './items';
import { clampQuantity } from './stepper';

/**
 * The kit of the client's most recent contact in which they received anything (net of
 * reversals). Contacts with nothing given (counselling only, or fully reversed) are passed over,
 * so the usual kit is still offered. Rows follow `order` (catalogue order) when given.
 */
export function lastKit(history: readonly ContactSummary[], order: readonly string[] = []): ItemQuantity[] {
  const newestFirst = [...history].sort((a, b) => Date.parse(b.occurred_at) - Date.parse(a.occurred_at));
  for (const contact of newestFirst) {
    const items = Object.entries(contact.items)
      .filter(([, quantity]) => quantity > 0)
      .map(([commodity, quantity]) => ({ commodity, quantity: clampQuantity(quantity) }));
    if (items.length > 0) return sortByCatalogue(items, order);
  }
  return [];
}

function sortByCatalogue(items: ItemQuantity[], order: readonly string[]): ItemQuantity[] {
  const rank = (code: string) => {
    const i = order.indexOf(code);
    return i === -1 ? order.length : i;
  };
  return [...items].sort((a, b) => rank(a.commodity) - rank(b.commodity) || a.commodity.localeCompare(b.commodity));
}

export interface QuickLogInput {
  clientId: string;
  setting: Setting;
  items: readonly ItemQuantity[];
  sharpsReturned: number;
  collectingFor: number;
}

/** The contact saved by "Confirm". */
export function quickLogDraft(input: QuickLogInput): ContactDraft {
  const items = toPayloadItems(input.items);
  const sharps = clampQuantity(input.sharpsReturned);
  const draft: ContactDraft = {
    client: { id: input.clientId },
    setting: input.setting,
    services: items.length > 0 ? ['kit'] : [],
    collecting_for: clampQuantity(input.collectingFor),
    items,
    referrals: [],
    tests: [],
  };
  if (sharps > 0) draft.sharps_returned = sharps;
  return draft;
}

/**
 * The client's visit earlier the same day as `now`, the newest one: shown before "Confirm" so a
 * second visit is seen (it is not refused: someone may come back for a friend).
 */
export function visitToday(history: readonly ContactSummary[], now: Date): ContactSummary | null {
  const today = history.filter((c) => isSameDay(new Date(c.occurred_at), now));
  today.sort((a, b) => Date.parse(b.occurred_at) - Date.parse(a.occurred_at));
  return today[0] ?? null;
}

/** A client served today, for the list the window picks returning clients from. */
export interface TodaysClient {
  client: ClientSummary;
  /** The latest visit today. */
  at: string;
}

/** The clients of today's contacts, each once, most recent visit first; anonymous contacts skipped. */
export function todaysClients(contacts: readonly ContactSummary[]): TodaysClient[] {
  const newestFirst = [...contacts].sort((a, b) => Date.parse(b.occurred_at) - Date.parse(a.occurred_at));
  const seen = new Set<string>();
  const out: TodaysClient[] = [];
  for (const contact of newestFirst) {
    if (!contact.client_id || !contact.client_uic || seen.has(contact.client_id)) continue;
    seen.add(contact.client_id);
    out.push({ client: { id: contact.client_id, uic: contact.client_uic, gender: null, birth_year: null, other_site: null }, at: contact.occurred_at });
  }
  return out;
}
