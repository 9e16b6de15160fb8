/**
 * The contract between the UI and the Rust side of the tablet app.
 *
 * Every method is one Tauri command, called with `invoke(name, args)`. Argument keys are the
 * camelCase form of the Rust parameter names (Tauri's default: `server_url` → `serverUrl`); the
 * objects inside them (records, payloads) keep snake_case keys, as serde writes them by default.
 * A failed command rejects with a {@link BackendError}; screens show `message` and branch on
 * `code` only.
 *
 * Components never import `tauriBackend` directly: they read the backend from a Svelte context
 * (`lib/context.ts`), so tests and the browser preview can pass an in-memory fake.
 */
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';

// ---------------------------------------------------------------------------------------------
// Enumerations (wire values, as in crates/core/src/records.rs)
// ---------------------------------------------------------------------------------------------

export const LANGUAGES = ['en', 'ru', 'uk'] as const;
export type Language = (typeof LANGUAGES)[number];

export const GENDERS = ['woman', 'man', 'trans_woman', 'trans_man', 'non_binary', 'not_stated'] as const;
export type Gender = (typeof GENDERS)[number];

/** Genders counted in anonymous group tallies (a coarser split than for clients). */
export const TALLY_GENDERS = ['woman', 'man', 'non_binary', 'not_stated'] as const satisfies readonly Gender[];
export type TallyGender = (typeof TALLY_GENDERS)[number];

export const KEY_GROUPS = ['injects_drugs', 'uses_stimulants', 'sex_work', 'msm', 'nightlife', 'pregnant'] as const;
export type KeyGroup = (typeof KEY_GROUPS)[number];

export const SETTINGS = [
  'street_outreach',
  'mobile_van',
  'nightlife',
  'peer_delivered',
  'fixed_site',
  'window',
  'harm_reduction_room',
  'home_visit',
  'online',
] as const;
export type Setting = (typeof SETTINGS)[number];

export const SERVICES = [
  'kit',
  'counselling',
  'information',
  'testing',
  'referral',
  'wound_care',
  'naloxone_training',
  'drug_checking',
  'peer_support',
  'case_management',
] as const;
export type Service = (typeof SERVICES)[number];

export const REFERRAL_TARGETS = [
  'ost',
  'art_hiv_care',
  'hcv_treatment',
  'tb',
  'srh_gynaecology',
  'pmtct',
  'shelter',
  'legal_aid',
  'mental_health',
  'detox_rehab',
  'social_services',
] as const;
export type ReferralTarget = (typeof REFERRAL_TARGETS)[number];

/** Where a referral stands; `issued` until the follow-up records what happened. */
export const REFERRAL_STATUSES = ['issued', 'attended', 'declined', 'lost'] as const;
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];

/** The outcomes a follow-up records (`issued` again only undoes a mistaken tap). */
export const REFERRAL_OUTCOMES = ['attended', 'declined', 'lost'] as const satisfies readonly ReferralStatus[];
export type ReferralOutcome = (typeof REFERRAL_OUTCOMES)[number];

export const OVERDOSE_OUTCOMES = ['survived', 'died', 'unknown'] as const;
export type OverdoseOutcome = (typeof OVERDOSE_OUTCOMES)[number];

/** The most naloxone doses one overdose report can hold (as the record's schema). */
export const MAX_NALOXONE_DOSES = 50;

/** How a question of the client code scheme is answered. */
export const UIC_QUESTION_KINDS = ['letters', 'sex', 'birth_year', 'birth_day'] as const;
export type UicQuestionKind = (typeof UIC_QUESTION_KINDS)[number];

export const TESTS = ['hiv_rapid', 'hcv_rapid', 'syphilis', 'tb_screening', 'pregnancy'] as const;
export type TestKind = (typeof TESTS)[number];

export const TEST_RESULTS = ['non_reactive', 'reactive', 'invalid'] as const;
export type TestOutcome = (typeof TEST_RESULTS)[number];

export const AGE_BANDS = ['under_15', '15_19', '20_24', '25_49', '50_plus'] as const;
export type AgeBand = (typeof AGE_BANDS)[number];

export const STOCK_KINDS = [
  'received',
  'transfer_in',
  'transfer_out',
  'expired_damaged',
  'lost',
  'count_correction',
] as const;
export type StockKind = (typeof STOCK_KINDS)[number];

export const SYNC_STATES = ['idle', 'syncing', 'offline', 'error'] as const;
export type SyncState = (typeof SYNC_STATES)[number];

/** A commodity code from the catalogue (`syringe_1ml`, `condom_external`, ...). */
export type CommodityCode = string;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * What every failed command rejects with. Codes the UI branches on:
 * - `unlock`: `wrong_pin` (with `attempts_left` before the wipe, and `retry_after_ms` when the
 *   next attempt must wait), `pin_wait` (still waiting: the PIN was not checked; with
 *   `retry_after_ms`), `wiped`
 *   (too many wrong PINs: local data erased, the device must be enrolled again);
 * - `enroll`: `enrollment_code_invalid`, `offline`, `invalid_field`;
 * - `build_uic`: `invalid_answer`;
 * - `set_pin`: `invalid` (a new PIN must be 6–12 digits, not all one digit, not a run);
 * - `save_contact`, `save_group_tally`, `save_survey`, `record_stock_movement`: `invalid`;
 * - `update_referral`: `invalid` (not a status), `not_found` (unknown or deleted referral);
 * - `set_wipe_after`: `invalid` ("the tablet is wiped after 3 to 20 wrong PINs": outside 3–20,
 *   checked first), `app_locked` (a locked tablet must not raise its own limit); a value that is
 *   not a whole number from 0 to 4294967295 is refused by Tauri itself (a plain string: `internal`);
 * - any command that reads or writes records while the app is locked: `app_locked`;
 * - `update_contact`, `reverse_line`: `invalid`, `not_found` (unknown contact), `locked` (the
 *   contact is past its 72-hour edit window);
 * - `update_overdose`: `invalid` (a value the record refuses: more than 50 naloxone doses, an
 *   unknown outcome), `not_found` (unknown contact), `locked` (past the edit window, as
 *   `update_contact`), `app_locked`;
 * - `sync_now` and `Status.sync_error`: `offline`, `device_revoked`, `app_too_old`,
 *   `token_expired`; any other code is shown with its message.
 */
export interface BackendError {
  code: string;
  message: string;
  retry_after_ms?: number;
  /** For `wrong_pin`: how many more wrong PINs wipe the tablet's data. */
  attempts_left?: number;
}

/** Turns anything a command rejected with into a {@link BackendError}. */
export function toBackendError(error: unknown): BackendError {
  if (error && typeof error === 'object' && 'code' in error && typeof (error as BackendError).code === 'string') {
    const e = error as Partial<BackendError>;
    const out: BackendError = { code: e.code as string, message: typeof e.message === 'string' ? e.message : '' };
    if (typeof e.retry_after_ms === 'number') out.retry_after_ms = e.retry_after_ms;
    if (typeof e.attempts_left === 'number') out.attempts_left = e.attempts_left;
    return out;
  }
  if (typeof error === 'string') return { code: 'internal', message: error };
  if (error instanceof Error) return { code: 'internal', message: error.message };
  return { code: 'internal', message: String(error) };
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

export interface Site {
  id: string;
  name: string;
}

export interface Status {
  /** The device holds a token (the enrolment step succeeded). */
  enrolled: boolean;
  /** A PIN has been set. `false` only between a successful `enroll` and `set_pin`. */
  pin_set: boolean;
  locked: boolean;
  /** Local data was erased after too many wrong PINs; true until the device is enrolled again. */
  wiped: boolean;
  /** The worker (name or initials, stored on this device only). */
  worker: string | null;
  /**
   * Workers who used this device before, most recent first, for the "switch worker" list
   * (names stay on the device). The UI treats a missing field as an empty list.
   */
  known_workers: string[];
  device_name: string | null;
  org_name: string | null;
  site: Site | null;
  /** Operations in the outbox, not yet acknowledged by the server. */
  pending: number;
  /** Operations the server refused (kept aside on the device for the coordinator). */
  rejected: number;
  last_sync_ms: number | null;
  sync_state: SyncState;
  sync_error: { code: string; message: string } | null;
  language: Language;
  idle_lock_minutes: number;
  /**
   * Wrong PINs in a row after which the local data is wiped (3 to 20, set in Settings with
   * `set_wipe_after`; 10 on a new or wiped tablet). Readable while locked.
   */
  wipe_after: number;
  /**
   * The questions of the organisation's client code scheme, in order. Empty until enrolled
   * (and while locked: the scheme is inside the encrypted store); the builder then asks the
   * default scheme's questions.
   */
  uic_questions: UicQuestion[];
}

/** One question of the client code scheme, as `status` lists them. */
export interface UicQuestion {
  /** The answer's key for `build_uic` (`mother_first_name`, `sex`, `birth_day`, ...). */
  question: string;
  kind: UicQuestionKind;
}

export interface ClientSummary {
  id: string;
  uic: string;
  gender: string | null;
  birth_year: number | null;
}

export interface ContactSummary {
  id: string;
  /** RFC 3339. */
  occurred_at: string;
  setting: string | null;
  client_id: string | null;
  /** The client's code, so lists need not look it up (null for anonymous contacts). */
  client_uic: string | null;
  note: string | null;
  /**
   * Whether `update_contact` and `reverse_line` are still allowed (the edit window is open).
   * The backend still enforces it (error `locked`).
   */
  editable: boolean;
  /** Commodity code → net quantity (reversals subtracted). */
  items: Record<CommodityCode, number>;
  /** The overdose the worker responded to during the contact; null when none was reported. */
  overdose: OverdoseSummary | null;
}

/** A contact's overdose report, as the history shows it (`update_overdose` edits it). */
export interface OverdoseSummary {
  id: string;
  naloxone_doses: number;
  emergency_called: boolean;
  stayed_with_person: boolean;
  outcome: OverdoseOutcome;
}

export interface ItemQuantity {
  commodity: CommodityCode;
  quantity: number;
}

export interface KitTemplate {
  code: string;
  name: string;
  items: ItemQuantity[];
}

export interface Commodity {
  code: CommodityCode;
  name: string;
  category: string;
  unit: string;
  units_per_pack: number;
  counts_as_needle_syringe: boolean;
  low_stock_threshold: number | null;
}

/**
 * Answers to the UIC questions, keyed by the scheme's question names. A `sex` question is
 * answered '1' man, '2' woman, '3' other; a `birth_year` with four digits ('1987'); a
 * `birth_day` with '1'..'31'; a `letters` question with the word itself. They exist only in the
 * builder's memory and in this one call; they are never stored or sent anywhere else.
 */
export type UicAnswers = Record<string, string>;

export interface NewClient {
  uic: string;
  gender: Gender;
  birth_year?: number;
  key_groups: KeyGroup[];
}

export type ClientRef = { id: string } | { new: NewClient } | null;

export interface ContactDraft {
  client: ClientRef;
  setting: Setting;
  /** RFC 3339; the backend uses the current time when absent. */
  occurred_at?: string;
  services: Service[];
  /** Secondary distribution: for how many other people the client collects. */
  collecting_for: number;
  note?: string;
  items: ItemQuantity[];
  sharps_returned?: number;
  referrals: { target: ReferralTarget }[];
  tests: { test: TestKind; result: TestOutcome; linked_to_care: boolean }[];
  /** An overdose the worker responded to during the contact; left out when there was none. */
  overdose?: OverdoseReportDraft | null;
}

export interface OverdoseReportDraft {
  /** 0 to {@link MAX_NALOXONE_DOSES}. */
  naloxone_doses: number;
  emergency_called: boolean;
  stayed_with_person: boolean;
  outcome: OverdoseOutcome;
}

/** A referral of this tablet's site still waiting for its outcome (status `issued`). */
export interface OpenReferral {
  id: string;
  /** A referral target code (`ost`, ...). */
  target: string;
  /** When it was issued (RFC 3339). */
  issued_at: string;
  client_id: string | null;
  client_uic: string | null;
}

export interface SavedContact {
  contact_id: string;
  client_id: string | null;
}

export interface TallyCell {
  gender: TallyGender;
  age_band: AgeBand;
  count: number;
}

export interface GroupTallyDraft {
  setting: Setting;
  event_name?: string;
  people: TallyCell[];
  items: ItemQuantity[];
}

export type SurveyAnswer = string | number | string[] | null;

export interface StockLevel {
  commodity: CommodityCode;
  received: number;
  distributed: number;
  level: number;
}

export interface StockMovementDraft {
  commodity: CommodityCode;
  quantity: number;
  kind: StockKind;
  batch?: string;
  /** YYYY-MM-DD. */
  expiry_date?: string;
  grant_code?: string;
}

export interface SyncReport {
  pushed: number;
  rejected: number;
  pulled: number;
}

/** What an operation does to its record. */
export const OP_KINDS = ['create', 'update', 'delete'] as const;
export type OpKind = (typeof OP_KINDS)[number];

/**
 * A change the server refused. It stays on the tablet for the coordinator and is not sent
 * again. `code` is the server's (`record_purged`, a field code such as `out_of_range`,
 * `site_mismatch`, `unknown_record`, ...); `message` its sentence for people.
 */
export interface RejectedChange {
  op_seq: number;
  /** The kind of record (`contacts`, `distribution_lines`, ...). */
  collection: string;
  record_id: string;
  kind: OpKind;
  /** When the change was made on the tablet (milliseconds since the epoch). */
  at_ms: number;
  code: string;
  message: string;
  /** The fields it set, in a few words (`commodity: syringe_1ml, quantity: 10`); empty for a deletion. */
  summary: string;
}

export interface SyncProgress {
  phase: 'push' | 'pull';
  done: number;
  total: number;
}

/** Editable contact fields (`update_contact`); everything else is corrected by reversal. */
export interface ContactEdit {
  note?: string;
  setting?: Setting;
}

// ---------------------------------------------------------------------------------------------
// The interface
// ---------------------------------------------------------------------------------------------

export interface Backend {
  status(): Promise<Status>;
  enroll(args: { serverUrl: string; code: string; deviceName: string }): Promise<void>;
  setPin(args: { pin: string; worker: string }): Promise<void>;
  unlock(args: { pin: string }): Promise<void>;
  lock(): Promise<void>;
  switchWorker(args: { worker: string }): Promise<void>;
  buildUic(args: { answers: UicAnswers }): Promise<{ uic: string }>;
  findClients(args: { prefix: string }): Promise<ClientSummary[]>;
  nearMatches(args: { uic: string }): Promise<ClientSummary[]>;
  clientHistory(args: { clientId: string; limit: number }): Promise<ContactSummary[]>;
  contactsBetween(args: { from: string; to: string; limit: number }): Promise<ContactSummary[]>;
  kitTemplates(): Promise<KitTemplate[]>;
  commodities(): Promise<Commodity[]>;
  saveContact(args: { contact: ContactDraft }): Promise<SavedContact>;
  /** Open referrals of this tablet's site, oldest first; with `client`, only that client's. */
  openReferrals(args: { client?: string | null }): Promise<OpenReferral[]>;
  /** Records a referral's outcome, dated now. Errors: `invalid`, `not_found`. */
  updateReferral(args: { id: string; status: ReferralStatus }): Promise<void>;
  updateContact(args: { id: string; fields: ContactEdit }): Promise<void>;
  reverseLine(args: { contactId: string; commodity: CommodityCode; quantity: number }): Promise<void>;
  /**
   * Sets the overdose report of a contact still in its edit window: creates it when the contact
   * has none, changes it when it has one, removes it with `null` (recorded by mistake).
   * Errors: `invalid`, `not_found`, `locked`, `app_locked`.
   */
  updateOverdose(args: { contactId: string; overdose: OverdoseReportDraft | null }): Promise<void>;
  saveGroupTally(args: { tally: GroupTallyDraft }): Promise<void>;
  saveSurvey(args: { answers: Record<string, SurveyAnswer> }): Promise<void>;
  stockLevels(): Promise<StockLevel[]>;
  recordStockMovement(args: { movement: StockMovementDraft }): Promise<void>;
  syncNow(): Promise<SyncReport>;
  /** The changes the server refused, newest first. */
  rejectedChanges(): Promise<RejectedChange[]>;
  setLanguage(args: { language: Language }): Promise<void>;
  setIdleLock(args: { minutes: number }): Promise<void>;
  /**
   * Sets how many wrong PINs in a row wipe the local data: 3 to 20. Only while unlocked.
   * Errors: `invalid` (outside 3–20), `app_locked`.
   */
  setWipeAfter(args: { attempts: number }): Promise<void>;
  /**
   * Connects the tablet again with a new one-time code after its access expired, keeping all
   * local records and unsent changes. Errors: `enrollment_code_invalid`, `offline`.
   */
  reEnroll(args: { code: string }): Promise<void>;
  /** Subscribes to the `sync-progress` event; resolves to an unsubscribe function. */
  onSyncProgress(handler: (progress: SyncProgress) => void): Promise<() => void>;
}

/**
 * A plain JSON copy of command arguments: screens pass Svelte state (proxies), and every
 * argument of this contract is JSON data anyway.
 */
export function plainArgs<A>(args: A): A {
  return args === undefined ? args : (JSON.parse(JSON.stringify(args)) as A);
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, plainArgs(args));
  } catch (error) {
    throw toBackendError(error);
  }
}

/** The real backend: Tauri commands with the snake_case names below. */
export const tauriBackend: Backend = {
  status: () => call('status'),
  enroll: (args) => call('enroll', args),
  setPin: (args) => call('set_pin', args),
  unlock: (args) => call('unlock', args),
  lock: () => call('lock'),
  switchWorker: (args) => call('switch_worker', args),
  buildUic: (args) => call('build_uic', args),
  findClients: (args) => call('find_clients', args),
  nearMatches: (args) => call('near_matches', args),
  clientHistory: (args) => call('client_history', args),
  contactsBetween: (args) => call('contacts_between', args),
  kitTemplates: () => call('kit_templates'),
  commodities: () => call('commodities'),
  saveContact: (args) => call('save_contact', args),
  openReferrals: (args) => call('open_referrals', args),
  updateReferral: (args) => call('update_referral', args),
  updateContact: (args) => call('update_contact', args),
  reverseLine: (args) => call('reverse_line', args),
  updateOverdose: (args) => call('update_overdose', args),
  saveGroupTally: (args) => call('save_group_tally', args),
  saveSurvey: (args) => call('save_survey', args),
  stockLevels: () => call('stock_levels'),
  recordStockMovement: (args) => call('record_stock_movement', args),
  syncNow: () => call('sync_now'),
  rejectedChanges: () => call('rejected_changes'),
  setLanguage: (args) => call('set_language', args),
  setIdleLock: (args) => call('set_idle_lock', args),
  setWipeAfter: (args) => call('set_wipe_after', args),
  reEnroll: (args) => call('re_enroll', args),
  onSyncProgress: (handler) => listen<SyncProgress>('sync-progress', (event) => handler(event.payload)),
};

/** Whether the page runs inside a Tauri window (false in a plain browser and in tests). */
export function insideTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}
