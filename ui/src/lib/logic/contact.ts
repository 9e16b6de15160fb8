/**
 * The outreach contact form: what the worker picked, turned into the `save_contact` payload.
 * The UIC answers are not part of this form: the builder keeps them to itself and hands over
 * only the code.
 */
import type {
  ContactDraft,
  Gender,
  ItemQuantity,
  KeyGroup,
  OverdoseOutcome,
  OverdoseReportDraft,
  ReferralTarget,
  Service,
  Setting,
  TestKind,
  TestOutcome,
} from '../backend';
import { MAX_NALOXONE_DOSES, SERVICES, TESTS } from '../backend';
import { toPayloadItems } from './items';
import { clampQuantity } from './stepper';

export type ClientChoice =
  | { kind: 'anonymous' }
  | { kind: 'existing'; id: string; uic: string }
  | { kind: 'new'; uic: string; gender: Gender; birthYear: number | null; keyGroups: KeyGroup[] };

export interface TestEntry {
  result: TestOutcome;
  linkedToCare: boolean;
}

/**
 * The overdose response section, once the worker opened it. Every answer is required: the
 * yes/no questions and the outcome start unanswered (null); the doses start at 0, a real answer
 * (rescue breathing without naloxone).
 */
export interface OverdoseForm {
  naloxoneDoses: number;
  emergencyCalled: boolean | null;
  stayedWithPerson: boolean | null;
  outcome: OverdoseOutcome | null;
}

export function emptyOverdoseForm(): OverdoseForm {
  return { naloxoneDoses: 0, emergencyCalled: null, stayedWithPerson: null, outcome: null };
}

export interface ContactForm {
  client: ClientChoice | null;
  setting: Setting | null;
  services: Service[];
  items: ItemQuantity[];
  sharpsReturned: number;
  collectingFor: number;
  referrals: ReferralTarget[];
  tests: Partial<Record<TestKind, TestEntry>>;
  note: string;
  /** The overdose response section: null while it is closed (nothing is sent then). */
  overdose: OverdoseForm | null;
}

export const NOTE_MAX = 500;

export type ContactProblem =
  | 'no_client'
  | 'no_setting'
  | 'birth_year'
  | 'note_too_long'
  | 'overdose_doses'
  | 'overdose_emergency'
  | 'overdose_stayed'
  | 'overdose_outcome';

export const OVERDOSE_PROBLEMS = ['overdose_doses', 'overdose_emergency', 'overdose_stayed', 'overdose_outcome'] as const;

/** What is missing or wrong in an open overdose section. */
export function overdoseProblems(od: OverdoseForm | null): ContactProblem[] {
  if (!od) return [];
  const problems: ContactProblem[] = [];
  if (!Number.isInteger(od.naloxoneDoses) || od.naloxoneDoses < 0 || od.naloxoneDoses > MAX_NALOXONE_DOSES) {
    problems.push('overdose_doses');
  }
  if (od.emergencyCalled === null) problems.push('overdose_emergency');
  if (od.stayedWithPerson === null) problems.push('overdose_stayed');
  if (od.outcome === null) problems.push('overdose_outcome');
  return problems;
}

/** The `overdose` payload of a complete section (null when closed or incomplete). */
export function overdoseDraft(od: OverdoseForm | null): OverdoseReportDraft | null {
  if (!od || overdoseProblems(od).length > 0) return null;
  return {
    naloxone_doses: od.naloxoneDoses,
    emergency_called: od.emergencyCalled as boolean,
    stayed_with_person: od.stayedWithPerson as boolean,
    outcome: od.outcome as OverdoseOutcome,
  };
}

export function contactProblems(form: ContactForm, currentYear = new Date().getFullYear()): ContactProblem[] {
  const problems: ContactProblem[] = [];
  if (!form.client) problems.push('no_client');
  if (!form.setting) problems.push('no_setting');
  if (form.client?.kind === 'new' && form.client.birthYear !== null) {
    const y = form.client.birthYear;
    if (!Number.isInteger(y) || y < 1900 || y > currentYear) problems.push('birth_year');
  }
  if (form.note.trim().length > NOTE_MAX) problems.push('note_too_long');
  problems.push(...overdoseProblems(form.overdose));
  return problems;
}

/**
 * The payload. Services implied by what was recorded are added (kit when something was given,
 * testing when a test result is recorded, referral when a referral is issued), so indicators do
 * not depend on the worker ticking both.
 */
export function contactDraft(form: ContactForm): ContactDraft {
  if (!form.client || !form.setting) throw new Error('contactDraft called on an incomplete form');
  const items = toPayloadItems(form.items);
  const tests = TESTS.flatMap((test) => {
    const entry = form.tests[test];
    return entry ? [{ test, result: entry.result, linked_to_care: entry.linkedToCare }] : [];
  });
  const services = new Set<Service>(form.services);
  if (items.length > 0) services.add('kit');
  if (tests.length > 0) services.add('testing');
  if (form.referrals.length > 0) services.add('referral');

  const c = form.client;
  const draft: ContactDraft = {
    client:
      c.kind === 'anonymous'
        ? null
        : c.kind === 'existing'
          ? { id: c.id }
          : {
              new: {
                uic: c.uic,
                gender: c.gender,
                ...(c.birthYear !== null ? { birth_year: c.birthYear } : {}),
                key_groups: [...c.keyGroups],
              },
            },
    setting: form.setting,
    services: SERVICES.filter((s) => services.has(s)),
    collecting_for: clampQuantity(form.collectingFor),
    items,
    referrals: [...new Set(form.referrals)].map((target) => ({ target })),
    tests,
  };
  const sharps = clampQuantity(form.sharpsReturned);
  if (sharps > 0) draft.sharps_returned = sharps;
  const note = form.note.trim();
  if (note) draft.note = note;
  const overdose = overdoseDraft(form.overdose);
  if (overdose) draft.overdose = overdose;
  return draft;
}

export function emptyContactForm(setting: Setting | null = null): ContactForm {
  return {
    client: null,
    setting,
    services: [],
    items: [],
    sharpsReturned: 0,
    collectingFor: 0,
    referrals: [],
    tests: {},
    note: '',
    overdose: null,
  };
}
