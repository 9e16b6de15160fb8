/**
 * The contract between the UI and the Rust side of the tablet app.
 *
 * Every method is one Tauri command, called with `invoke(name, args)`. Argument keys are the
 * camelCase form of the Rust parameter names (Tauri's default: `server_url` → `serverUrl`); the
 * objects inside them (records, payloads) keep snake_case keys, as serde writes them by default.
 * A failed command rejects with a {@link BackendError}; screens show `message` and branch on
 * `code` only.
 *
 * The types of what the commands take and return, the string enumerations with their values
 * and the limits are not written here: they are generated from the Rust types into
 * `generated/backend.ts` (by `src-tauri/tests/ui_types.rs`, which fails when the file is out of
 * date), so a change on one side fails the type check of the other. This file re-exports them
 * under the names the screens use, and adds what only the UI needs (display orders, the
 * choices a screen offers).
 *
 * Components never import `tauriBackend` directly: they read the backend from a Svelte context
 * (`lib/context.ts`), so tests and the browser preview can pass an in-memory fake.
 */
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  AgeBand,
  BuiltUic,
  ClientSummary,
  CommandError,
  Commodity,
  CommodityQuantity,
  ContactClient,
  ContactEdit,
  ContactInput,
  ContactSummary,
  FormKind,
  FormState,
  Gender,
  KitTemplate,
  MovementInput,
  OpenLinkage,
  OpenReferral,
  OverdoseInput,
  PublishedForm,
  ReferralStatus,
  RejectedChange,
  SavedContact,
  Setting,
  SiteInfo,
  Status,
  StockCount,
  StockLevel,
  SyncProgress,
  SyncSummary,
  TallyInput,
  UicQuestion,
} from './generated/backend';
import { COMMAND_NAMES, LANGUAGES, SETTINGS } from './generated/backend';

// Every generated type, value list and limit, under its Rust name.
export * from './generated/backend';

// ---------------------------------------------------------------------------------------------
// Enumerations: the generated values, and the orders and subsets the screens show
// ---------------------------------------------------------------------------------------------

export type Language = (typeof LANGUAGES)[number];

/** Whether a language code (from the status, the browser, storage) is one the UI speaks. */
export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * The settings in the order the screens offer them (outreach first); the same values as the
 * generated {@link SETTINGS} (checked below and in `backend.test.ts`).
 */
export const SETTING_CHOICES = [
  'street_outreach',
  'mobile_van',
  'nightlife',
  'peer_delivered',
  'fixed_site',
  'window',
  'harm_reduction_room',
  'home_visit',
  'online',
] as const satisfies readonly Setting[];
// A setting added in Rust and missing above fails the type check here.
const settingChoicesComplete: [Exclude<Setting, (typeof SETTING_CHOICES)[number]>] extends [never] ? true : never = true;
void settingChoicesComplete;
void SETTINGS;

/** Genders counted in anonymous group tallies (a coarser split than for clients). */
export const TALLY_GENDERS = ['woman', 'man', 'non_binary', 'not_stated'] as const satisfies readonly Gender[];
export type TallyGender = (typeof TALLY_GENDERS)[number];

/** The age bands a group tally counts (a worker estimating a crowd does not mark "not stated"). */
export const TALLY_AGE_BANDS = ['under_15', '15_19', '20_24', '25_49', '50_plus'] as const satisfies readonly AgeBand[];
export type TallyAgeBand = (typeof TALLY_AGE_BANDS)[number];

/** The outcomes a follow-up records (`issued` again only undoes a mistaken tap). */
export const REFERRAL_OUTCOMES = ['attended', 'declined', 'lost'] as const satisfies readonly ReferralStatus[];
export type ReferralOutcome = (typeof REFERRAL_OUTCOMES)[number];

/** How a question of the client code scheme is answered. */
export type UicQuestionKind = UicQuestion['kind'];
export const UIC_QUESTION_KINDS = ['letters', 'sex', 'birth_year', 'birth_day'] as const satisfies readonly UicQuestionKind[];
const uicQuestionKindsComplete: [Exclude<UicQuestionKind, (typeof UIC_QUESTION_KINDS)[number]>] extends [never] ? true : never = true;
void uicQuestionKindsComplete;

/** A commodity code from the catalogue (`syringe_1ml`, `condom_external`, ...). */
export type CommodityCode = string;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * What every failed command rejects with (the generated `CommandError`). Codes the UI
 * branches on:
 * - `unlock`: `wrong_pin` (with `attempts_left` before the wipe, and `retry_after_ms` when the
 *   next attempt must wait), `pin_wait` (still waiting: the PIN was not checked; with
 *   `retry_after_ms`), `wiped`
 *   (too many wrong PINs: local data erased, the device must be enrolled again);
 * - `enroll`: `enrollment_code_invalid`, `offline`, `invalid`;
 * - `build_uic`: `invalid_answer`;
 * - `set_pin`: `invalid` (a new PIN must be `NEW_PIN_MIN`–`NEW_PIN_MAX` digits, not all one
 *   digit, not a run; the worker's name 1 to 60 characters), `not_enrolled`;
 * - `save_contact`, `save_group_tally`, `save_survey`, `record_stock_movement`: `invalid`;
 * - `update_referral`: `invalid` (not a status), `not_found` (unknown or deleted referral);
 * - `record_linkage`: `not_found` (unknown or deleted test result), `invalid` (the test is not
 *   reactive, or its person was linked to care already: the message says which);
 * - `set_language`, `set_idle_lock`: `invalid` (not one of `LANGUAGES`; outside
 *   `IDLE_LOCK_MIN_MINUTES`–`IDLE_LOCK_MAX_MINUTES`);
 * - `set_wipe_after`: `invalid` ("the tablet is wiped after 3 to 20 wrong PINs": outside
 *   `WIPE_AFTER_MIN`–`WIPE_AFTER_MAX`, checked first), `app_locked` (a locked tablet must not
 *   raise its own limit); a value that is not a whole number from 0 to 4294967295 is refused by
 *   Tauri itself (a plain string: `internal`);
 * - any command that reads or writes records while the app is locked: `app_locked`;
 * - `update_contact`, `reverse_line`: `invalid`, `not_found` (unknown contact), `locked` (the
 *   contact is past its edit window, `CONTACT_EDIT_WINDOW_MS` after it was recorded);
 * - `update_overdose`: `invalid` (a value the record refuses: more than `MAX_NALOXONE_DOSES`
 *   naloxone doses, an unknown outcome), `not_found` (unknown contact), `locked` (past the edit
 *   window, as `update_contact`), `app_locked`;
 * - `sync_now` and `Status.sync_error`: `offline`, `device_revoked`, `app_too_old`,
 *   `token_expired`; any other code is shown with its message.
 */
export type BackendError = CommandError;

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
// Data: the generated types under the names the screens use
// ---------------------------------------------------------------------------------------------

/** The tablet's site, as `status` gives it. */
export type Site = SiteInfo;

/** A commodity and a quantity (kit items, contact lines, tally items). */
export type ItemQuantity = CommodityQuantity;

/** What `save_contact` takes. */
export type ContactDraft = ContactInput;

/** The client of a contact: an existing one, a new one, or none (anonymous). */
export type ClientRef = ContactClient | null;

/** An overdose the worker responded to (`save_contact`, `update_overdose`). */
export type OverdoseReportDraft = OverdoseInput;

/** What `record_stock_movement` takes. */
export type StockMovementDraft = MovementInput;

/** What `sync_now` answers. */
export type SyncReport = SyncSummary;

/**
 * Answers to the UIC questions, keyed by the scheme's question names. A `sex` question is
 * answered '1' man, '2' woman, '3' other; a `birth_year` with four digits ('1987'); a
 * `birth_day` with '1'..'31'; a `letters` question with the word itself. They exist only in the
 * builder's memory and in this one call; they are never stored or sent anywhere else.
 */
export type UicAnswers = Record<string, string>;

/**
 * One cell of a group tally: how many people of a gender and age band (the `tallies` record's
 * `people` field; Rust takes the cells as JSON, so their shape is written here).
 */
export type TallyCell = { gender: TallyGender; age_band: TallyAgeBand; count: number };

/** What `save_group_tally` takes: the generated `TallyInput` with the cells' shape. */
export type GroupTallyDraft = Omit<TallyInput, 'people' | 'items'> & { people: TallyCell[]; items: ItemQuantity[] };

/**
 * One answer to a form's question (Rust takes the answers as JSON): a choice's name, the
 * choices' names of a `select_multiple`, a number, a text or a date (`YYYY-MM-DD`), `OK` for an
 * `acknowledge`.
 */
export type FormAnswer = string | number | string[];

/** A form's answers by question name; a question without an answer is absent. */
export type FormAnswers = Record<string, FormAnswer>;

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
  buildUic(args: { answers: UicAnswers }): Promise<BuiltUic>;
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
  /** Reactive tests of this tablet's site whose person is not yet linked to care, oldest first. */
  openLinkages(): Promise<OpenLinkage[]>;
  /**
   * Records that the person of reactive test `id` was linked to care, dated now (a follow-up,
   * also after the contact's edit window). Errors: `not_found` (unknown test), `invalid` (the test
   * is not reactive, or was linked already: the message says which), `app_locked`.
   */
  recordLinkage(args: { id: string }): Promise<void>;
  updateContact(args: { id: string; fields: ContactEdit }): Promise<void>;
  reverseLine(args: { contactId: string; commodity: CommodityCode; quantity: number }): Promise<void>;
  /**
   * Sets the overdose report of a contact still in its edit window: creates it when the contact
   * has none, changes it when it has one, removes it with `null` (recorded by mistake).
   * Errors: `invalid`, `not_found`, `locked`, `app_locked`.
   */
  updateOverdose(args: { contactId: string; overdose: OverdoseReportDraft | null }): Promise<void>;
  saveGroupTally(args: { tally: GroupTallyDraft }): Promise<void>;
  /**
   * The forms to offer for new answers: the newest published version of each form this tablet
   * received, of `kind` when given.
   */
  offeredForms(args: { kind: FormKind | null }): Promise<PublishedForm[]>;
  /**
   * What the answers mean for one version of a form: which questions and groups show, the
   * calculations, the choices each select offers, every problem (messages in `language`, a
   * language code). Errors: `unknown_form`.
   */
  checkForm(args: { formId: string; version: number; answers: FormAnswers; language: string }): Promise<FormState>;
  /**
   * Saves an anonymous survey response after the same check. Errors: `invalid_answers` (the
   * check found problems), `unknown_form`, `invalid`.
   */
  saveSurvey(args: { formId: string; version: number; answers: FormAnswers }): Promise<void>;
  stockLevels(): Promise<StockLevel[]>;
  recordStockMovement(args: { movement: StockMovementDraft }): Promise<void>;
  /** A stock count (opening balance, stocktake): the corrections it needed; how many. */
  recordStockCount(args: { counts: StockCount[] }): Promise<number>;
  syncNow(): Promise<SyncReport>;
  /** The changes the server refused, newest first. */
  rejectedChanges(): Promise<RejectedChange[]>;
  setLanguage(args: { language: Language }): Promise<void>;
  setIdleLock(args: { minutes: number }): Promise<void>;
  /**
   * Sets how many wrong PINs in a row wipe the local data: `WIPE_AFTER_MIN` to
   * `WIPE_AFTER_MAX`. Only while unlocked. Errors: `invalid` (outside the range), `app_locked`.
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

/** The methods of {@link Backend} that are commands (all but the event subscription). */
export type CommandMethod = Exclude<keyof Backend, 'onSyncProgress'>;

/** A command `src-tauri/src/command_list.rs` lists (generated from it). */
export type CommandName = (typeof COMMAND_NAMES)[number];

/**
 * The Tauri command behind each method: each must be a listed command (the compiler checks it);
 * `src-tauri/tests/contract.rs` checks that every listed command has its method.
 */
export const COMMANDS = {
  status: 'status',
  enroll: 'enroll',
  setPin: 'set_pin',
  unlock: 'unlock',
  lock: 'lock',
  switchWorker: 'switch_worker',
  buildUic: 'build_uic',
  findClients: 'find_clients',
  nearMatches: 'near_matches',
  clientHistory: 'client_history',
  contactsBetween: 'contacts_between',
  kitTemplates: 'kit_templates',
  commodities: 'commodities',
  saveContact: 'save_contact',
  openReferrals: 'open_referrals',
  updateReferral: 'update_referral',
  openLinkages: 'open_linkages',
  recordLinkage: 'record_linkage',
  updateContact: 'update_contact',
  reverseLine: 'reverse_line',
  updateOverdose: 'update_overdose',
  saveGroupTally: 'save_group_tally',
  offeredForms: 'offered_forms',
  checkForm: 'check_form',
  saveSurvey: 'save_survey',
  stockLevels: 'stock_levels',
  recordStockMovement: 'record_stock_movement',
  recordStockCount: 'record_stock_count',
  syncNow: 'sync_now',
  rejectedChanges: 'rejected_changes',
  setLanguage: 'set_language',
  setIdleLock: 'set_idle_lock',
  setWipeAfter: 'set_wipe_after',
  reEnroll: 're_enroll',
} as const satisfies Record<CommandMethod, CommandName>;

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

/**
 * The real backend: each method of {@link COMMANDS} invokes its command with the arguments it
 * was given (so a command is named once, in `COMMANDS`), plus the `sync-progress` subscription.
 */
export const tauriBackend: Backend = {
  ...(Object.fromEntries(
    (Object.keys(COMMANDS) as CommandMethod[]).map((method) => [
      method,
      (args?: Record<string, unknown>) => call(COMMANDS[method], args),
    ]),
  ) as unknown as Pick<Backend, CommandMethod>),
  onSyncProgress: (handler) => listen<SyncProgress>('sync-progress', (event) => handler(event.payload)),
};

/** Whether the page runs inside a Tauri window (false in a plain browser and in tests). */
export function insideTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}
