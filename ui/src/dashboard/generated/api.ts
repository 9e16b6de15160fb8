// Generated from the Rust types by tests/integration/ui_types.rs: do not edit.
// OUTPOST_UPDATE_GENERATED=1 cargo test -p outpost-tests --test integration ui_types rewrites it.

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;
export type SiteId = string;
export type SiteRef = { id: SiteId, name: string, };
export type ErrorDetail = { 
/**
 * Position of the operation in the batch.
 */
index: number, op_seq: number | null, field: string | null, code: string, message: string, };
export type ErrorBody = { 
/**
 * Machine-readable code, listed in `docs/protocol.md`.
 */
code: string, 
/**
 * A sentence for people.
 */
message: string, 
/**
 * Per-operation or per-field problems, when the request was a batch.
 */
details?: Array<ErrorDetail>, };
export type Role = "outreach_worker" | "room_staff" | "coordinator" | "admin";
export type User = { id: string, username: string, role: Role, 
/**
 * The sites the user sees: their own, or every site of the organisation for admins.
 */
sites: Array<SiteRef>, 
/**
 * Whether a second factor is set up.
 */
totp: boolean, 
/**
 * The password is a temporary one an administrator gave out: the dashboard asks for a new
 * one before anything else.
 */
password_temporary: boolean, };
export type SessionInfo = { user: User, 
/**
 * Send it as `X-CSRF-Token` on every request that changes something.
 */
csrf_token: string, };
export type LoginRequest = { username: string, password: string, 
/**
 * The 6-digit code of the authenticator app, for accounts with a second factor.
 */
totp?: string, };
export type SiteOut = { id: string, name: string, pwid_estimate: number | null, };
export type Unit = "people" | "contacts" | "items" | "percent" | "per_pwid_year" | "tests" | "referrals" | "responses";
export type Coverage = "low" | "medium" | "high";
export type Cell = { key: string, value: number | null, suppressed: boolean, };
export type Breakdown = { dimension: string, rows: Array<Cell>, };
export type Indicator = { key: string, 
/**
 * Null when suppressed, or when it cannot be computed (no PWID estimate).
 */
value: number | null, suppressed: boolean, unit: Unit, 
/**
 * How it is computed, in English (the dashboard translates the key).
 */
formula: string, 
/**
 * For syringes per PWID per year: the guide's coverage band.
 */
coverage?: Coverage, 
/**
 * For syringes per PWID per year: the programme's target (its own, or WHO's 300).
 */
target?: number, breakdowns: Array<Breakdown>, };
export type Suppression = { enabled: boolean, threshold: number, };
export type IndicatorReport = { from: string, to: string, sites: Array<SiteId>, suppression: Suppression, indicators: Array<Indicator>, };
export type MonthRow = { 
/**
 * `YYYY-MM`.
 */
month: string, 
/**
 * Null when suppressed.
 */
people_reached: number | null, contacts: number, needle_syringes: number, syringes_returned: number, };
export type SiteTrend = { site_id: string, site_name: string, people_reached: number | null, contacts: number, needle_syringes: number, };
export type Trends = { months: Array<MonthRow>, by_site: Array<SiteTrend>, };
export type Cadence = "month" | "quarter" | "half_year" | "year";
export type IndicatorSummary = { key: string, code?: string, name: string, };
export type SetSummary = { key: string, name: string, source: string, cadence: Cadence, indicators: Array<IndicatorSummary>, };
export type TableCell = { keys: Array<string>, 
/**
 * Null when suppressed.
 */
value: number | null, suppressed: boolean, };
export type Table = { dimensions: Array<string>, cells: Array<TableCell>, };
export type CategoryOut = { key: string, label: string, };
export type DimensionOut = { key: string, 
/**
 * `categories` (of people), `site` or `month`.
 */
kind: string, label: string, categories: Array<CategoryOut>, };
export type SetIndicator = { key: string, code?: string, name: string, definition: string, unit: Unit, 
/**
 * Null when suppressed, or when it cannot be computed (no estimate, nothing to divide by).
 */
value: number | null, suppressed: boolean, 
/**
 * For a percentage or a ratio: what was divided (null when suppressed).
 */
numerator?: number, denominator?: number, coverage?: Coverage, target?: number, tables: Array<Table>, };
export type SetReport = { 
/**
 * The programme (organisation) the report is of.
 */
programme: string, set: string, name: string, source: string, notes: Array<string>, from: string, to: string, 
/**
 * The report's sites (id and name), in name order.
 */
sites: Array<CategoryOut>, suppression: Suppression, dimensions: Array<DimensionOut>, indicators: Array<SetIndicator>, };
export type Service = "kit" | "counselling" | "information" | "testing" | "referral" | "wound_care" | "naloxone_training" | "drug_checking" | "peer_support" | "case_management";
export type TestKind = "hiv_rapid" | "hcv_rapid" | "syphilis" | "tb_screening" | "pregnancy";
export type ReferralTarget = "ost" | "art_hiv_care" | "hcv_treatment" | "tb" | "srh_gynaecology" | "pmtct" | "shelter" | "legal_aid" | "mental_health" | "detox_rehab" | "social_services";
export type ItemClass = "needle_syringe" | "condom" | "naloxone" | { "category": string };
export type Population = "injects_drugs" | "uses_stimulants" | "sex_work" | "msm" | "nightlife" | "pregnant" | "transgender" | "everyone";
export type PackageItem = { "received": ItemClass } | { "service": Service } | { "tested": TestKind } | { "referred": ReferralTarget };
export type ServicePackage = { population: Population, 
/**
 * Only for people with a contact in this setting in the period.
 */
setting?: Setting, 
/**
 * Every group must be met, each by one of its items.
 */
requires: Array<Array<PackageItem>>, };
export type PackagesOut = { 
/**
 * The programme's own.
 */
own: Array<ServicePackage>, 
/**
 * In force: the programme's and the defaults of the populations it wrote none for.
 */
effective: Array<ServicePackage>, 
/**
 * The shipped defaults.
 */
defaults: Array<ServicePackage>, };
export type PackagesForm = { packages: Array<ServicePackage>, };
export type MappingInfo = { set: string, saved_by: string, saved_ms: number, values: number, org_units: number, 
/**
 * Why the saved mapping no longer fits (a site renamed, a set changed), if it does not.
 */
problem?: string, };
export type Dhis2Settings = { url?: string, token_set: boolean, mappings: Array<MappingInfo>, };
export type ConnectionForm = { url: string, token?: string, };
export type OutValue = { site: string, org_unit: string, indicator: string, 
/**
 * The table cell, `dimension=category;…`, empty for the indicator's own number.
 */
cell: string, data_element: string, category_option_combo?: string, attribute_option_combo?: string, value: string, };
export type HeldBack = { site: string, indicator: string, cell: string, 
/**
 * `suppressed` (under 5 people while small numbers are hidden) or `not_computable`.
 */
reason: string, };
export type Unmapped = { indicator: string, cell: string, };
export type Dhis2Preview = { set: string, 
/**
 * DHIS2's period (`2026Q3`) and ADX's (`2026-07-01/P3M`).
 */
period: string, adx_period: string, data_set: string, suppressed: boolean, values: Array<OutValue>, held_back: Array<HeldBack>, unmapped: Array<Unmapped>, 
/**
 * Sites of the report without an org unit in the mapping (nothing can be sent until each
 * has one, or the report leaves them out).
 */
sites_without_org_unit: Array<string>, };
export type ImportSummary = { 
/**
 * `SUCCESS`, `WARNING` or `ERROR`, as DHIS2 says.
 */
status: string, imported: number, updated: number, ignored: number, deleted: number, 
/**
 * DHIS2's complaints, `object: value` each.
 */
conflicts: Array<string>, };
export type SendOutcome = { dry_run: boolean, 
/**
 * Whether DHIS2 imported the values (false for a dry run, and when the dry run that comes
 * first found a value DHIS2 would refuse).
 */
sent: boolean, values: number, held_back: number, summary: ImportSummary, message: string, };
export type SendRequest = { from: string, to: string, 
/**
 * Site ids (default: every site of the user).
 */
sites?: Array<string>, 
/**
 * Hide numbers under 5 (default true); false is audited.
 */
suppress?: boolean, dry_run: boolean, };
export type FormError = { sheet: string, 
/**
 * 1-based row of the sheet; 0 for the sheet as a whole.
 */
row: number, 
/**
 * The column's header (`relevant`, `label::English (en)`), or `""`.
 */
column: string, message: string, };
export type FormCheck = { 
/**
 * The form as tablets would receive it, when it has no errors.
 */
form: Form | null, 
/**
 * Every problem that keeps it from being published (empty when `form` is set).
 */
errors: Array<FormError>, 
/**
 * What was skipped or ignored (published forms may have warnings).
 */
warnings: Array<FormError>, };
export type Published = { form_id: string, version: number, };
export type PreviewRequest = { form: Form, answers: Record<string, JsonValue>, 
/**
 * A language code (`ru`) or one of the form's language keys.
 */
language: string, 
/**
 * `YYYY-MM-DD` for `today()`; the server's date when absent.
 */
today: string | null, };
export type ChoiceCount = { name: string, label: { [key in string]: string }, count: number | null, };
export type NumberSummary = { mean: number, min: number, max: number, };
export type QuestionResult = { name: string, kind: QuestionKind, label: { [key in string]: string }, 
/**
 * Responses that answered it (`None`: suppressed with the choices it would reveal).
 */
answered: number | null, 
/**
 * For `select_one` and `select_multiple`: every choice of its list, in the form's order.
 */
choices: Array<ChoiceCount>, 
/**
 * For `integer` and `decimal`, when answered at least [`SMALL_CELL`] times.
 */
numbers: NumberSummary | null, };
export type FormResults = { form_id: string, 
/**
 * The newest version's title, languages and questions (then questions only older versions had).
 */
title: { [key in string]: string }, languages: Array<FormLanguage>, default_language: string, responses: number, 
/**
 * Fewer responses than `threshold`: no answer is shown.
 */
hidden: boolean, questions: Array<QuestionResult>, };
export type SurveyResults = { threshold: number, 
/**
 * Every form with responses in the period, by id.
 */
forms: Array<FormResults>, };
export type StockLevel = { site_id: string, site_name: string, commodity: string, name: string, level: number, low_threshold: number | null, 
/**
 * Needs attention: `status` is not `ok`.
 */
low: boolean, 
/**
 * `count_needed` (below zero: movements are missing, a count sets it right), `low` (out,
 * or below the threshold) or `ok`.
 */
status: string, used_per_day: number, 
/**
 * Null when nothing was used in the last 30 days.
 */
days_left: number | null, };
export type Movement = { id: string, site_id: string, commodity: string, quantity: number, kind: string, occurred_at: string, };
export type LevelPoint = { date: string, site_id: string, commodity: string, level: number, };
export type ExpiringBatch = { site_id: string, site_name: string, commodity: string, name: string, 
/**
 * The batch as written on the delivery note, when recorded.
 */
batch: string | null, 
/**
 * ISO date.
 */
expiry_date: string, 
/**
 * How many came in that delivery (the tablets do not count per batch).
 */
quantity: number, 
/**
 * When it was received (RFC 3339).
 */
received_at: string, 
/**
 * Days from today to the expiry date; negative once expired.
 */
days_left: number, };
export type Stock = { levels: Array<StockLevel>, movements: Array<Movement>, history: Array<LevelPoint>, expiring: Array<ExpiringBatch>, };
export type DeviceOut = { id: string, name: string, 
/**
 * Names of the sites it is enrolled for (those the user may see).
 */
sites: Array<string>, app_version: string, enrolled_ms: number, last_seen_ms: number, revoked_ms: number | null, clock_skew_ms: number, clamped_count: number, token_expires_ms: number, 
/**
 * The worker it was enrolled for.
 */
worker: string | null, 
/**
 * Whether the user may revoke and rename it (every one of its sites is theirs).
 */
manageable: boolean, 
/**
 * Changes it holds unsent, as it reported with its last pull.
 */
unsent_ops: number, };
export type Side = { value: JsonValue, device_id: string | null, at_ms: number | null, 
/**
 * The tablet's name (as enrolled or renamed by an admin), when the server knows the device.
 */
device_name: string | null, 
/**
 * The worker last signed in on that tablet, as it last told the server.
 */
worker: string | null, };
export type ConflictResolution = "accepted" | "reverted";
export type ConflictAction = "accept" | "revert";
export type RecordLabel = { client_uic: string | null, 
/**
 * When the contact (or the record's own event) took place, RFC 3339.
 */
occurred_at: string | null, commodity: string | null, };
export type ConflictView = { id: number, collection: string, record_id: string, site_id: string | null, field: string, winner: Side, loser: Side, detected_ms: number, resolved_ms: number | null, resolution: ConflictResolution | null, record: RecordLabel, };
export type Resolve = { 
/**
 * `accept` keeps the winner; `revert` writes the losing value back (every tablet gets it).
 */
action: ConflictAction, };
export type AuditOut = { id: number, at_ms: number, actor: string, action: string, target: string, detail: string, address: string | null, };
export type KeyGroup = "injects_drugs" | "uses_stimulants" | "sex_work" | "msm" | "nightlife" | "pregnant";
export type Setting = "fixed_site" | "window" | "harm_reduction_room" | "street_outreach" | "mobile_van" | "nightlife" | "peer_delivered" | "home_visit" | "online";
export type CommodityCategory = "injecting" | "smoking" | "sniffing" | "sex" | "naloxone" | "testing" | "women" | "nightlife" | "other";
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
export type AdminSite = { id: string, name: string, pwid_estimate: number | null, population_estimates: { [key in KeyGroup]?: number }, retired: boolean, active_devices: number, };
export type SavedSite = { id: string, name: string, };
export type SiteForm = { name: string, 
/**
 * Estimated people who inject drugs in the site's area.
 */
pwid_estimate: number | null, 
/**
 * Estimated size of its other key populations (not `injects_drugs`: that is `pwid_estimate`).
 */
population_estimates: { [key in KeyGroup]?: number }, retired: boolean, };
export type CommodityEntry = { id: string, commodity: Commodity, };
export type KitEntry = { id: string, kit: KitTemplate, };
export type Catalogue = { commodities: Array<CommodityEntry>, kits: Array<KitEntry>, };
export type ThresholdForm = { site: string, threshold: number | null, };
export type TabletChanged = { id: string, name: string, revoked: boolean, };
export type RenameForm = { name: string, };
export type OpenCodeOut = { id: string, site_id: string, site: string, created_ms: number, expires_ms: number, worker: string | null, };
export type CodeForm = { site: string, 
/**
 * The worker the tablet is for (a user name).
 */
worker: string | null, 
/**
 * 1 to 720.
 */
valid_hours: number, };
export type NewCodeOut = { code: string, site: string, expires_ms: number, 
/**
 * The server's address as printed (absent when the request named none).
 */
server: string | null, 
/**
 * The enrolment link the QR code holds (absent without the server's address).
 */
link: string | null, qr_svg: string, };
export type UserEntry = { username: string, role: Role, 
/**
 * The sites listed for the user (admins see every site whatever is listed).
 */
sites: Array<string>, totp: boolean, disabled: boolean, password_temporary: boolean, created_ms: number, last_login_ms: number | null, };
export type UserForm = { username: string, role: Role, 
/**
 * Site ids.
 */
sites: Array<string>, disabled: boolean, };
export type TemporaryPassword = { username: string, password: string, };
export type ErasureRequest = { code: string, reason: string, };
export type ErasureOut = { 
/**
 * Client records (one person may have been registered more than once).
 */
clients: number, 
/**
 * Every record removed, the clients included.
 */
records: number, };
export type DuplicateReason = "same_code" | "near_code";
export type ReviewRecord = { id: string, code: string, gender: string | null, birth_year: number | null, 
/**
 * Where it was registered.
 */
site: string | null, first_seen_at: string | null, 
/**
 * Its contacts, and the sites they were at (names, most contacts first).
 */
contacts: number, last_seen_at: string | null, seen_at: Array<string>, };
export type DuplicatePair = { 
/**
 * The record suggested to keep (first seen earlier, else more contacts).
 */
keep: ReviewRecord, merge: ReviewRecord, reason: DuplicateReason, 
/**
 * Sites where both were seen (names).
 */
shared_sites: Array<string>, };
export type MergeEntry = { id: string, merged: ReviewRecord, kept: ReviewRecord, merged_at_ms: number, };
export type DuplicateReview = { 
/**
 * The strongest pairs, at most [`MAX_PAIRS`].
 */
pairs: Array<DuplicatePair>, 
/**
 * All pairs found (more than `pairs` holds when the list was cut).
 */
total_pairs: number, 
/**
 * The newest merges in force, at most [`MAX_MERGES_LISTED`].
 */
merges: Array<MergeEntry>, };
export type MergeRequest = { keep: string, merge: string, };
export type DismissRequest = { a: string, b: string, };
export type TotpSetup = { username: string, secret: string, link: string, qr_svg: string, };
export type PasswordChange = { current_password: string, new_password: string, };
export type Script = "latin" | "keep_cyrillic";
export type UicComponent = { "kind": "letters", question: string, count: number, } | { "kind": "sex_digit", question: string, } | { "kind": "birth_year", question: string, digits: number, } | { "kind": "birth_day", question: string, };
export type UicScheme = { name: string, components: Array<UicComponent>, script: Script, };
export type Organisation = { name: string, default_language: string, uic_scheme: UicScheme, 
/**
 * Whether the scheme can still change (no client is registered yet).
 */
scheme_changeable: boolean, built_in_schemes: Array<UicScheme>, 
/**
 * Days after which the server erases people not seen since, and contacts and survey
 * responses older than that; null keeps everything.
 */
retention_days: number | null, 
/**
 * Whether every tablet holds every site's clients' codes, genders and years of birth.
 */
client_index: boolean, 
/**
 * The programme's target of needle-syringes per person who injects drugs per year (its
 * own, or the default), shown beside the coverage bands.
 */
nsp_target: number, 
/**
 * Whether `nsp_target` is the programme's own (not the default).
 */
nsp_target_set: boolean, };
export type OrganisationForm = { name: string, default_language: string, uic_scheme: UicScheme, 
/**
 * Null (or absent) keeps everything.
 */
retention_days: number | null, 
/**
 * Absent: off.
 */
client_index: boolean, 
/**
 * 50–2000; null (or absent) for the default.
 */
nsp_target: number | null, };
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

export const ROLES = ['outreach_worker', 'room_staff', 'coordinator', 'admin'] as const satisfies readonly Role[];
export const EXPORT_KINDS = ['contacts', 'distributions', 'referrals', 'tests', 'stock', 'tallies', 'surveys', 'indicators'] as const satisfies readonly string[];
export const UNITS = ['people', 'contacts', 'items', 'percent', 'per_pwid_year', 'tests', 'referrals', 'responses'] as const satisfies readonly Unit[];
export const COVERAGE_LEVELS = ['low', 'medium', 'high'] as const satisfies readonly Coverage[];
export const KEY_GROUPS = ['injects_drugs', 'uses_stimulants', 'sex_work', 'msm', 'nightlife', 'pregnant'] as const satisfies readonly KeyGroup[];
export const POPULATIONS = ['injects_drugs', 'uses_stimulants', 'sex_work', 'msm', 'nightlife', 'pregnant', 'transgender', 'everyone'] as const satisfies readonly Population[];
export const SETTINGS = ['fixed_site', 'window', 'harm_reduction_room', 'street_outreach', 'mobile_van', 'nightlife', 'peer_delivered', 'home_visit', 'online'] as const satisfies readonly Setting[];
export const COMMODITY_CATEGORIES = ['injecting', 'smoking', 'sniffing', 'sex', 'naloxone', 'testing', 'women', 'nightlife', 'other'] as const satisfies readonly CommodityCategory[];
export const MAX_FAILED_LOGINS = 10;
export const FAILED_LOGIN_WINDOW_MS = 600000;
export const SMALL_CELL = 5;
export const COVERAGE_HIGH_ABOVE = 200;
export const DEFAULT_NSP_TARGET = 300;
export const SESSION_IDLE_MS = 1800000;
export const SESSION_MAX_MS = 43200000;
export const MIN_PASSWORD_CHARS = 10;
export const MAX_PASSWORD_CHARS = 256;
export const MAX_NAME_CHARS = 200;
export const MAX_ESTIMATE = 10000000;
export const MAX_VALID_HOURS = 720;
