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
totp: boolean, };
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
coverage?: Coverage, breakdowns: Array<Breakdown>, };
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
export type Answer = { value: string, count: number, };
export type Question = { id: string, answers: Array<Answer>, };
export type SurveyResults = { responses: number, 
/**
 * Fewer responses than `threshold`: no answer is shown.
 */
hidden: boolean, threshold: number, questions: Array<Question>, };
export type StockLevel = { site_id: string, site_name: string, commodity: string, name: string, level: number, low_threshold: number | null, low: boolean, used_per_day: number, 
/**
 * Null when nothing was used in the last 30 days.
 */
days_left: number | null, };
export type Movement = { id: string, site_id: string, commodity: string, quantity: number, kind: string, occurred_at: string, };
export type LevelPoint = { date: string, site_id: string, commodity: string, level: number, };
export type Stock = { levels: Array<StockLevel>, movements: Array<Movement>, history: Array<LevelPoint>, };
export type DeviceOut = { id: string, name: string, 
/**
 * Names of the sites it is enrolled for (those the user may see).
 */
sites: Array<string>, app_version: string, enrolled_ms: number, last_seen_ms: number, revoked_ms: number | null, clock_skew_ms: number, clamped_count: number, token_expires_ms: number, };
export type Side = { value: JsonValue, device_id: string | null, at_ms: number | null, };
export type ConflictResolution = "accepted" | "reverted";
export type ConflictAction = "accept" | "revert";
export type ConflictView = { id: number, collection: string, record_id: string, site_id: string | null, field: string, winner: Side, loser: Side, detected_ms: number, resolved_ms: number | null, resolution: ConflictResolution | null, };
export type Resolve = { 
/**
 * `accept` keeps the winner; `revert` writes the losing value back (every tablet gets it).
 */
action: ConflictAction, };
export type AuditOut = { id: number, at_ms: number, actor: string, action: string, target: string, detail: string, address: string | null, };

export const ROLES = ['outreach_worker', 'room_staff', 'coordinator', 'admin'] as const satisfies readonly Role[];
export const EXPORT_KINDS = ['contacts', 'distributions', 'referrals', 'tests', 'stock', 'tallies', 'surveys', 'indicators'] as const satisfies readonly string[];
export const UNITS = ['people', 'contacts', 'items', 'percent', 'per_pwid_year', 'tests', 'referrals', 'responses'] as const satisfies readonly Unit[];
export const COVERAGE_LEVELS = ['low', 'medium', 'high'] as const satisfies readonly Coverage[];
export const MAX_FAILED_LOGINS = 10;
export const FAILED_LOGIN_WINDOW_MS = 600000;
export const SMALL_CELL = 5;
export const COVERAGE_TARGET = 200;
export const SESSION_IDLE_MS = 1800000;
export const SESSION_MAX_MS = 43200000;
export const MIN_PASSWORD_CHARS = 10;
export const MAX_PASSWORD_CHARS = 256;
