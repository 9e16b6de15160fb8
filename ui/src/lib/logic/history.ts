/**
 * Corrections to past contacts. Only the note, the setting and the overdose report are edited in
 * place; a distribution is corrected by a reversal line (never by changing the original line),
 * and only up to what is left of it.
 */
import type { ContactEdit, ContactSummary, ItemQuantity, OverdoseOutcome, OverdoseReportDraft, OverdoseSummary, Setting } from '../backend';
import { OVERDOSE_OUTCOMES } from '../backend';
import { NOTE_MAX, type OverdoseForm } from './contact';

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

function isOverdoseOutcome(value: string): value is OverdoseOutcome {
  return (OVERDOSE_OUTCOMES as readonly string[]).includes(value);
}

/** The overdose section filled with a recorded report, to correct it. */
export function overdoseFormOf(report: OverdoseSummary): OverdoseForm {
  return {
    naloxoneDoses: report.naloxone_doses,
    emergencyCalled: report.emergency_called,
    stayedWithPerson: report.stayed_with_person,
    // A value this app does not know (a newer server's) must be chosen again.
    outcome: isOverdoseOutcome(report.outcome) ? report.outcome : null,
  };
}

/** Whether saving `draft` would change the recorded report (nothing is sent otherwise). */
export function overdoseChanged(recorded: OverdoseSummary | null, draft: OverdoseReportDraft | null): boolean {
  if (!recorded || !draft) return recorded !== draft;
  return (
    recorded.naloxone_doses !== draft.naloxone_doses ||
    recorded.emergency_called !== draft.emergency_called ||
    recorded.stayed_with_person !== draft.stayed_with_person ||
    recorded.outcome !== draft.outcome
  );
}
