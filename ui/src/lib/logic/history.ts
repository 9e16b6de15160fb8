/**
 * Corrections to past contacts. Only the note and the setting are edited in place; a
 * distribution is corrected by a reversal line (never by changing the original line), and only
 * up to what is left of it.
 */
import type { ContactEdit, ContactSummary, ItemQuantity, Setting } from '../backend';
import { NOTE_MAX } from './contact';

/** Lines that can still be reversed: positive net quantities. */
export function reversibleLines(contact: Pick<ContactSummary, 'items'>): ItemQuantity[] {
  return Object.entries(contact.items)
    .filter(([, q]) => q > 0)
    .map(([commodity, quantity]) => ({ commodity, quantity }));
}

/** Why a reversal of `quantity` cannot be recorded when `net` is left. */
export function reversalProblem(net: number, quantity: number): 'quantity' | null {
  return Number.isInteger(quantity) && quantity >= 1 && quantity <= net ? null : 'quantity';
}

/** The fields that changed (nothing is sent for an unchanged field). */
export function contactEdit(
  original: Pick<ContactSummary, 'note' | 'setting'>,
  edited: { note: string; setting: Setting | null },
): ContactEdit | null {
  const fields: ContactEdit = {};
  const note = edited.note.trim().slice(0, NOTE_MAX);
  if (note !== (original.note ?? '')) fields.note = note;
  if (edited.setting && edited.setting !== original.setting) fields.setting = edited.setting;
  return Object.keys(fields).length > 0 ? fields : null;
}
