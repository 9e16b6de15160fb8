// Generated from the Rust types by src-tauri/tests/ui_types.rs: do not edit.
// OUTPOST_UPDATE_GENERATED=1 cargo test -p outpost-app --test ui_types rewrites it.

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;
export type RecordId = string;
export type SiteId = string;
export type Gender = "woman" | "man" | "trans_woman" | "trans_man" | "non_binary" | "not_stated";
export type KeyGroup = "injects_drugs" | "uses_stimulants" | "sex_work" | "msm" | "nightlife" | "pregnant";
export type Setting = "fixed_site" | "window" | "harm_reduction_room" | "street_outreach" | "mobile_van" | "nightlife" | "peer_delivered" | "home_visit" | "online";
export type Service = "kit" | "counselling" | "information" | "testing" | "referral" | "wound_care" | "naloxone_training" | "drug_checking" | "peer_support" | "case_management";
export type ReferralTarget = "ost" | "art_hiv_care" | "hcv_treatment" | "tb" | "srh_gynaecology" | "pmtct" | "shelter" | "legal_aid" | "mental_health" | "detox_rehab" | "social_services";
export type ReferralStatus = "issued" | "attended" | "declined" | "lost";
export type TestKind = "hiv_rapid" | "hcv_rapid" | "syphilis" | "tb_screening" | "pregnancy";
export type TestOutcome = "non_reactive" | "reactive" | "invalid";
export type OverdoseOutcome = "survived" | "died" | "unknown";
export type AgeBand = "under_15" | "15_19" | "20_24" | "25_49" | "50_plus" | "not_stated";
export type StockKind = "received" | "transfer_in" | "transfer_out" | "expired_damaged" | "lost" | "count_correction";
export type CommodityCategory = "injecting" | "smoking" | "sniffing" | "sex" | "naloxone" | "testing" | "women" | "nightlife" | "other";
export type OpKind = "create" | "update" | "delete";
export type SyncState = "idle" | "syncing" | "offline" | "error";
export type CommodityQuantity = { commodity: string, quantity: number, };
export type Commodity = { code: string, 
/**
 * The name in the organisation's default language (and whenever `names` lacks one).
 */
name: string, 
/**
 * The name in other languages, by language code (`ru`, `uk`...).
 */
names?: { [key in string]: string }, category: CommodityCategory, unit: string, units_per_pack: number, counts_as_needle_syringe: boolean, 
/**
 * Below this many a site's stock is low, unless `site_thresholds` names the site.
 */
low_stock_threshold: number | null, 
/**
 * The low-stock threshold of particular sites, by site id.
 */
site_thresholds?: { [key in string]: number }, 
/**
 * Where it comes in lists: lower first (then by name).
 */
order: number, 
/**
 * No longer handed out: hidden from new entries, still shown in history and reports.
 */
retired: boolean, };
export type KitTemplate = { code: string, name: string, 
/**
 * The name in other languages, by language code.
 */
names?: { [key in string]: string }, items: Array<CommodityQuantity>, 
/**
 * The key populations it is meant for (none: everyone).
 */
key_groups?: Array<KeyGroup>, 
/**
 * The settings it is meant for (none: every setting).
 */
settings?: Array<Setting>, 
/**
 * Where it comes in lists: lower first (then by name).
 */
order: number, 
/**
 * No longer offered for new contacts.
 */
retired: boolean, };
export type CommandError = { code: string, message: string, retry_after_ms?: number, 
/**
 * For a wrong PIN: how many more wrong PINs wipe the local data (the UI says it in the
 * worker's language).
 */
attempts_left?: number, };
export type SiteInfo = { id: SiteId, name: string, };
export type UicQuestion = { 
/**
 * The answer's key for `build_uic` (`mother_first_name`, `sex`, `birth_year`...).
 */
question: string, 
/**
 * How it is answered: `letters` (a name or word), `sex` (man, woman, other),
 * `birth_year` (four digits) or `birth_day` (1–31).
 */
kind: 'letters' | 'sex' | 'birth_year' | 'birth_day', };
export type Status = { enrolled: boolean, locked: boolean, wiped: boolean, worker: string | null, device_name: string | null, org_name: string | null, site: SiteInfo | null, pending: number, rejected: number, last_sync_ms: number | null, sync_state: SyncState, sync_error: CommandError | null, language: string, idle_lock_minutes: number, 
/**
 * Wrong PINs in a row before the local data is wiped.
 */
wipe_after: number, pin_set: boolean, 
/**
 * Workers who used this tablet, the current one first.
 */
known_workers: Array<string>, 
/**
 * The questions of the organisation's client code scheme, in order (empty until enrolled).
 */
uic_questions: Array<UicQuestion>, };
export type BuiltUic = { uic: string, };
export type ClientSummary = { id: RecordId, uic: string, gender: string | null, birth_year: number | null, 
/**
 * The site that registered the client, when it is not one of this tablet's (a client
 * found through the organisation's client index).
 */
other_site: string | null, };
export type OverdoseSummary = { id: RecordId, naloxone_doses: number, emergency_called: boolean, stayed_with_person: boolean, 
/**
 * `survived`, `died` or `unknown`.
 */
outcome: string, };
export type ContactSummary = { id: RecordId, occurred_at: string, setting: string | null, client_id: RecordId | null, 
/**
 * The client's code, so lists need not look it up (None for anonymous contacts).
 */
client_uic: string | null, note: string | null, 
/**
 * Whether the contact may still be edited (see `CONTACT_EDIT_WINDOW_MS`).
 */
editable: boolean, 
/**
 * Commodity code → net quantity (reversals subtracted).
 */
items: { [key in string]: number }, 
/**
 * The overdose the worker responded to in this contact, if one was reported.
 */
overdose: OverdoseSummary | null, };
export type OpenReferral = { id: RecordId, target: string, 
/**
 * When it was issued (RFC 3339): the time of the contact it was given in, so a status set
 * back to issued keeps its place in the list.
 */
issued_at: string, client_id: RecordId | null, client_uic: string | null, };
export type OpenLinkage = { id: RecordId, 
/**
 * The test kind (`hiv_rapid`, `hcv_rapid`...).
 */
test: string, 
/**
 * When it was done (RFC 3339): the time of its contact.
 */
tested_at: string, client_id: RecordId | null, client_uic: string | null, };
export type LevelStatus = "count_needed" | "low" | "ok";
export type ExpiringBatch = { batch: string | null, 
/**
 * ISO date.
 */
expiry_date: string, 
/**
 * How many came in with it (levels are not kept per batch).
 */
quantity: number, };
export type StockLevel = { commodity: string, received: number, distributed: number, level: number, 
/**
 * The site's low-stock threshold for it (the site's own, else the commodity's).
 */
threshold: number | null, 
/**
 * What the level means, by core's rule (the dashboard's too).
 */
status: LevelStatus, 
/**
 * Batches of it received here that expire soon or expired lately (core's window), soonest
 * first; only while the level is above zero.
 */
expiring: Array<ExpiringBatch>, };
export type NewClient = { uic: string, gender: string, birth_year?: number | null, key_groups: Array<string>, };
export type ContactClient = { id: string, } | { new: NewClient, };
export type Quantity = { commodity: string, quantity: number, };
export type ReferralInput = { target: string, };
export type TestInput = { test: string, result: string, linked_to_care: boolean, };
export type OverdoseInput = { naloxone_doses: number, emergency_called: boolean, stayed_with_person: boolean, 
/**
 * `survived`, `died` or `unknown`.
 */
outcome: string, };
export type FormAnswersInput = { form_id: string, version: number, answers: Record<string, JsonValue>, };
export type ContactInput = { client?: ContactClient | null, setting: string, occurred_at?: string | null, services: Array<string>, collecting_for: number, note?: string | null, items: Array<Quantity>, sharps_returned?: number | null, referrals: Array<ReferralInput>, tests: Array<TestInput>, overdose?: OverdoseInput | null, 
/**
 * Answers to the programme's contact questions, one entry per form.
 */
questions?: Array<FormAnswersInput> | null, };
export type SavedContact = { contact_id: RecordId, client_id: RecordId | null, };
export type ContactEdit = { note?: string | null, setting?: string | null, };
export type TallyInput = { setting: string, event_name?: string | null, people: Array<JsonValue>, items: Array<JsonValue>, };
export type MovementInput = { commodity: string, quantity: number, kind: string, batch?: string | null, expiry_date?: string | null, grant_code?: string | null, };
export type StockCount = { commodity: string, counted: number, };
export type RejectedChange = { op_seq: number, collection: string, record_id: RecordId, 
/**
 * `create`, `update` or `delete`.
 */
kind: OpKind, 
/**
 * When the change was made on the tablet (its stamp's wall clock).
 */
at_ms: number, 
/**
 * The server's code (`record_purged`, `out_of_range`, `site_mismatch`, ...).
 */
code: string, 
/**
 * The server's sentence, cut to [`MESSAGE_CHARS`].
 */
message: string, 
/**
 * What the change set, in a few words: see [`change_summary`].
 */
summary: string, };
export type SyncSummary = { pushed: number, rejected: number, pulled: number, };
export type SyncProgress = { 
/**
 * `push` or `pull`.
 */
phase: 'push' | 'pull', done: number, total: number, };
export type FormKind = "survey" | "contact_questions";
export type FormLanguage = { 
/**
 * The header's text after `label::` (`Русский (ru)`), or `""`.
 */
key: string, 
/**
 * The language's code when the header gives one (`ru`) or its name is a known language.
 */
code: string | null, };
export type QuestionKind = "integer" | "decimal" | "text" | "select_one" | "select_multiple" | "date" | "note" | "acknowledge" | "calculate";
export type Question = { name: string, kind: QuestionKind, label: { [key in string]: string }, hint: { [key in string]: string }, 
/**
 * An expression; `true()` for `yes`.
 */
required: string | null, required_message: { [key in string]: string }, relevant: string | null, constraint: string | null, constraint_message: { [key in string]: string }, calculation: string | null, default: string | null, read_only: boolean, 
/**
 * For selects: the choice list.
 */
list: string | null, 
/**
 * For selects: "other" may be chosen (`or_other`), specified in the text question `<name>_other`.
 */
other: boolean, choice_filter: string | null, appearance: string | null, row: number, };
export type Group = { name: string, label: { [key in string]: string }, relevant: string | null, 
/**
 * Questions and groups inside (a group may hold groups: the schema refers to `Item`).
 */
items: Array<Item>, 
/**
 * The survey sheet's row it came from (for messages).
 */
row: number, };
export type Item = { "item": "question" } & Question | { "item": "group" } & Group;
export type Choice = { name: string, label: { [key in string]: string }, 
/**
 * The other columns of the choices sheet (what a `choice_filter` reads).
 */
columns?: { [key in string]: string }, };
export type Form = { id: string, 
/**
 * The form's own version (`settings` sheet), or one the server gives at publication.
 */
version: string, kind: FormKind, title: { [key in string]: string }, 
/**
 * The key of the language shown when the worker's is missing.
 */
default_language: string, languages: Array<FormLanguage>, 
/**
 * For contact questions: shown in the window quick-log too.
 */
in_quick_log: boolean, items: Array<Item>, 
/**
 * Choice lists by name.
 */
choices: { [key in string]: Array<Choice> }, };
export type FormStatus = "published" | "retired";
export type PublishedForm = { 
/**
 * The form's id (a code); survey responses name it as `survey_id`.
 */
form_id: string, 
/**
 * 1, 2, 3... per form id, given by the server; responses name it as `survey_version`.
 */
version: number, definition: Form, status: FormStatus, published_at: string, 
/**
 * The `version` of the XLSForm's settings sheet, when it had one.
 */
source_version?: string | null, };
export type AnswerProblem = { question: string, 
/**
 * One of [`PROBLEM_CODES`].
 */
code: string, 
/**
 * The form's own message for it in the reader's language, when the form has one.
 */
message: string | null, };
export type FormState = { 
/**
 * Questions and groups to show (relevant), by name.
 */
shown: Array<string>, 
/**
 * The value of every calculation.
 */
calculated: { [key in string]: JsonValue }, 
/**
 * The choices each shown select offers after its `choice_filter`.
 */
choices: { [key in string]: Array<string> }, problems: Array<AnswerProblem>, 
/**
 * The answer each question with a `default` starts with (a screen fills these in when it
 * starts the form; the reader may change or clear them).
 */
defaults: { [key in string]: JsonValue }, };

export const GENDERS = ['woman', 'man', 'trans_woman', 'trans_man', 'non_binary', 'not_stated'] as const satisfies readonly Gender[];
export const KEY_GROUPS = ['injects_drugs', 'uses_stimulants', 'sex_work', 'msm', 'nightlife', 'pregnant'] as const satisfies readonly KeyGroup[];
export const SETTINGS = ['fixed_site', 'window', 'harm_reduction_room', 'street_outreach', 'mobile_van', 'nightlife', 'peer_delivered', 'home_visit', 'online'] as const satisfies readonly Setting[];
export const SERVICES = ['kit', 'counselling', 'information', 'testing', 'referral', 'wound_care', 'naloxone_training', 'drug_checking', 'peer_support', 'case_management'] as const satisfies readonly Service[];
export const REFERRAL_TARGETS = ['ost', 'art_hiv_care', 'hcv_treatment', 'tb', 'srh_gynaecology', 'pmtct', 'shelter', 'legal_aid', 'mental_health', 'detox_rehab', 'social_services'] as const satisfies readonly ReferralTarget[];
export const REFERRAL_STATUSES = ['issued', 'attended', 'declined', 'lost'] as const satisfies readonly ReferralStatus[];
export const TESTS = ['hiv_rapid', 'hcv_rapid', 'syphilis', 'tb_screening', 'pregnancy'] as const satisfies readonly TestKind[];
export const TEST_RESULTS = ['non_reactive', 'reactive', 'invalid'] as const satisfies readonly TestOutcome[];
export const OVERDOSE_OUTCOMES = ['survived', 'died', 'unknown'] as const satisfies readonly OverdoseOutcome[];
export const AGE_BANDS = ['under_15', '15_19', '20_24', '25_49', '50_plus', 'not_stated'] as const satisfies readonly AgeBand[];
export const STOCK_KINDS = ['received', 'transfer_in', 'transfer_out', 'expired_damaged', 'lost', 'count_correction'] as const satisfies readonly StockKind[];
export const OP_KINDS = ['create', 'update', 'delete'] as const satisfies readonly OpKind[];
export const SYNC_STATES = ['idle', 'syncing', 'offline', 'error'] as const satisfies readonly SyncState[];
export const LANGUAGES = ['en', 'ru', 'uk', 'lt', 'sr-Latn', 'sq', 'ka', 'ro'] as const satisfies readonly string[];
export const COMMAND_NAMES = ['status', 'enroll', 're_enroll', 'set_pin', 'unlock', 'lock', 'switch_worker', 'build_uic', 'find_clients', 'near_matches', 'client_history', 'contacts_between', 'kit_templates', 'commodities', 'save_contact', 'update_contact', 'reverse_line', 'update_overdose', 'save_group_tally', 'offered_forms', 'check_form', 'save_survey', 'stock_levels', 'record_stock_movement', 'record_stock_count', 'open_referrals', 'update_referral', 'open_linkages', 'record_linkage', 'sync_now', 'rejected_changes', 'set_language', 'set_idle_lock', 'set_wipe_after'] as const satisfies readonly string[];
export const ANSWER_PROBLEM_CODES = ['required', 'constraint', 'invalid_type', 'unknown_choice', 'not_relevant', 'unknown_question', 'not_answerable', 'not_checkable'] as const satisfies readonly string[];

export const PIN_MIN = 4;
export const PIN_MAX = 12;
export const NEW_PIN_MIN = 6;
export const NEW_PIN_MAX = 12;
export const WIPE_AFTER_MIN = 3;
export const WIPE_AFTER_MAX = 20;
export const WIPE_AFTER_DEFAULT = 10;
export const IDLE_LOCK_MIN_MINUTES = 1;
export const IDLE_LOCK_MAX_MINUTES = 60;
export const CONTACT_EDIT_WINDOW_MS = 259200000;
export const MAX_CONTACT_ITEMS = 64;
export const MAX_FORM_ANSWERS = 200;
export const MAX_NALOXONE_DOSES = 50;
export const EXPIRING_WITHIN_DAYS = 90;
export const EXPIRED_SHOWN_DAYS = 30;
export const ENROL_LINK_PATH = "/enrol";
export const ENROL_LINK_CODE_PARAM = "code";
