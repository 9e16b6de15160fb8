/**
 * The coordinators' dashboard's contract with `outpost-server` (docs/dashboard-api.md): the
 * types of every answer (re-exported from `generated/api.ts`, with the few narrower values the
 * pages know), the error shape, and `HttpDashboardApi`, a small client over `fetch`.
 *
 * The session lives in an HttpOnly cookie the browser sends by itself (`credentials:
 * 'same-origin'`); the CSRF token from `login` and `me` is kept in memory only and sent as
 * `X-CSRF-Token` on every POST. Components never build URLs: they call a {@link DashboardApi},
 * which tests replace with the in-memory fake in `fakeApi.ts`.
 */
import {
  COVERAGE_LEVELS,
  EXPORT_KINDS,
  ROLES,
  UNITS,
  type ChoiceCount,
  type AuditOut as AuditEntry,
  type Breakdown,
  type Cadence,
  type CategoryOut,
  type Cell,
  type ConflictAction,
  type ConflictResolution,
  type ConflictView as Conflict,
  type Coverage,
  type DeviceOut as Device,
  type DimensionOut,
  type ErrorBody,
  type ErrorDetail,
  type Indicator,
  type IndicatorReport as IndicatorsReport,
  type IndicatorSummary,
  type JsonValue,
  type LevelPoint as StockHistoryPoint,
  type LoginRequest,
  type MonthRow as TrendMonth,
  type Movement as StockMovement,
  type FormResults,
  type FormLanguage,
  type Form,
  type FormCheck,
  type FormError,
  type FormState,
  type PreviewRequest,
  type Published,
  type PublishedForm,
  type NumberSummary,
  type QuestionResult,
  type Resolve,
  type Role,
  type SessionInfo,
  type SetIndicator,
  type SetReport,
  type SetSummary,
  type Side as ConflictValue,
  type SiteId,
  type SiteOut as DashboardSite,
  type SiteRef,
  type SiteTrend,
  type Stock as StockReport,
  type StockLevel,
  type SurveyResults,
  type Suppression,
  type Table,
  type TableCell,
  type Trends,
  type Unit,
  type User,
  type AdminSite,
  type Catalogue,
  type CodeForm,
  type Commodity,
  type CommodityCategory,
  type CommodityEntry,
  type KeyGroup,
  type KitEntry,
  type KitTemplate,
  type NewCodeOut as NewCode,
  type OpenCodeOut as OpenCode,
  type SavedSite,
  type Setting,
  type SiteForm,
  type TabletChanged,
  type PasswordChange,
  type TemporaryPassword,
  type TotpSetup,
  type UserEntry,
  type UserForm,
  type Organisation,
  type OrganisationForm,
  type UicScheme,
  type ErasureRequest,
  type ErasureOut,
  type DismissRequest,
  type DuplicatePair,
  type DuplicateReason,
  type DuplicateReview,
  type MergeEntry,
  type MergeRequest,
  type ReviewRecord,
  type ConnectionForm,
  type Dhis2Preview,
  type Dhis2Settings,
  type HeldBack,
  type ImportSummary,
  type ItemClass,
  type MappingInfo,
  type OutValue,
  type PackageItem,
  type PackagesForm,
  type PackagesOut,
  type Population,
  type ReferralTarget,
  type SendOutcome,
  type SendRequest,
  type Service,
  type ServicePackage,
  type TestKind,
  type Unmapped,
  COMMODITY_CATEGORIES,
  KEY_GROUPS,
  POPULATIONS,
  SETTINGS,
} from './generated/api';
import { dhis2ExportUrl, exportUrl, filterQuery, type Filter } from './logic/query';

// ---------------------------------------------------------------------------------------------
// The server's types
// ---------------------------------------------------------------------------------------------

// Every type of an answer or a request comes from `generated/api.ts`, which is written from the
// server's Rust types: the dashboard never restates them. Some go by the names the pages use.
export type {
  AuditEntry,
  Breakdown,
  Cadence,
  CategoryOut,
  Cell,
  Conflict,
  ConflictAction,
  ConflictResolution,
  ConflictValue,
  Coverage,
  DashboardSite,
  Device,
  DimensionOut,
  ErrorBody,
  ErrorDetail,
  Indicator,
  IndicatorsReport,
  IndicatorSummary,
  JsonValue,
  LoginRequest,
  Resolve,
  Role,
  SessionInfo,
  SetIndicator,
  SetReport,
  SetSummary,
  SiteId,
  SiteRef,
  SiteTrend,
  StockHistoryPoint,
  StockLevel,
  StockMovement,
  StockReport,
  Suppression,
  Table,
  TableCell,
  ChoiceCount,
  FormResults,
  FormLanguage,
  Form,
  FormCheck,
  FormError,
  FormState,
  PreviewRequest,
  Published,
  PublishedForm,
  NumberSummary,
  QuestionResult,
  SurveyResults,
  TrendMonth,
  Trends,
  Unit,
  User,
  AdminSite,
  Catalogue,
  CodeForm,
  Commodity,
  CommodityCategory,
  CommodityEntry,
  KeyGroup,
  KitEntry,
  KitTemplate,
  NewCode,
  OpenCode,
  SavedSite,
  Setting,
  SiteForm,
  TabletChanged,
  PasswordChange,
  TemporaryPassword,
  TotpSetup,
  UserEntry,
  UserForm,
  Organisation,
  OrganisationForm,
  UicScheme,
  ErasureRequest,
  ErasureOut,
  DismissRequest,
  DuplicatePair,
  DuplicateReason,
  DuplicateReview,
  MergeEntry,
  MergeRequest,
  ReviewRecord,
  ConnectionForm,
  Dhis2Preview,
  Dhis2Settings,
  HeldBack,
  ImportSummary,
  ItemClass,
  MappingInfo,
  OutValue,
  PackageItem,
  PackagesForm,
  PackagesOut,
  Population,
  ReferralTarget,
  SendOutcome,
  SendRequest,
  Service,
  ServicePackage,
  TestKind,
  Unmapped,
};
export { COMMODITY_CATEGORIES, COVERAGE_LEVELS, EXPORT_KINDS, KEY_GROUPS, POPULATIONS, ROLES, SETTINGS, UNITS };

/** Only coordinators and admins may use the dashboard; the server answers 403 to the others. */
export function canUseDashboard(user: User): boolean {
  return user.role === 'coordinator' || user.role === 'admin';
}

// ---------------------------------------------------------------------------------------------
// Values the pages offer
// ---------------------------------------------------------------------------------------------

export type ConflictStatus = 'open' | 'all';

export type ExportKind = (typeof EXPORT_KINDS)[number];

export const EXPORT_FORMATS = ['csv', 'xlsx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The files a DHIS2 export writes: ADX XML, or DHIS2's own `dataValueSets` JSON. */
export const DHIS2_FORMATS = ['adx', 'json'] as const;
export type Dhis2Format = (typeof DHIS2_FORMATS)[number];

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * A failed request: the server's `{code, message, details}`, or `network` when the server could
 * not be reached and `http_<status>` when the answer was not the server's error shape.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown[];
  /** From `Retry-After` on `429 rate_limited`, in seconds. */
  readonly retryAfterSeconds: number | null;

  constructor(status: number, code: string, message: string, details: unknown[] = [], retryAfterSeconds: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof Error) return new ApiError(0, 'internal', error.message);
  return new ApiError(0, 'internal', String(error));
}

/** `Retry-After` as seconds: a number of seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** Codes that mean "no valid session": the dashboard goes back to the login page. */
export const SIGNED_OUT_CODES: readonly string[] = ['not_logged_in', 'session_expired'];

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

export interface DashboardApi {
  /** Restores a session from the cookie; rejects with `401 not_logged_in` when there is none. */
  me(): Promise<SessionInfo>;
  login(request: LoginRequest): Promise<SessionInfo>;
  logout(): Promise<void>;
  sites(): Promise<DashboardSite[]>;
  indicators(filter: Filter): Promise<IndicatorsReport>;
  /** The indicator sets (the programme's own and its donors'), in the order to list them. */
  indicatorSets(): Promise<SetSummary[]>;
  /** One indicator set computed for the filter, in the donor's shape. */
  indicatorSet(set: string, filter: Filter): Promise<SetReport>;
  trends(filter: Filter): Promise<Trends>;
  surveys(filter: Filter): Promise<SurveyResults>;
  stock(sites: readonly string[]): Promise<StockReport>;
  devices(): Promise<Device[]>;
  conflicts(status: ConflictStatus): Promise<Conflict[]>;
  /** `id` is the conflict's number, as in {@link Conflict}. */
  resolveConflict(id: Conflict['id'], action: ConflictAction): Promise<Conflict>;
  audit(): Promise<AuditEntry[]>;
  /** Every version of every form of the organisation. */
  forms(): Promise<PublishedForm[]>;
  /** Checks an XLSForm workbook (nothing is stored): the form, or every problem in it. */
  checkForm(file: Blob, name: string): Promise<FormCheck>;
  /** Publishes a workbook as the next version of its form id (refused whole on any error). */
  publishForm(file: Blob, name: string): Promise<Published>;
  retireForm(formId: string, version: number): Promise<Published>;
  /** Core's check of answers to a form, for the preview. */
  previewForm(request: PreviewRequest): Promise<FormState>;
  /** The address of a file download (a plain link: the browser sends the cookie). */
  exportUrl(kind: ExportKind, format: ExportFormat, filter: Filter): string;

  // Administration (docs/dashboard-api.md, "Administration"): every change audited.
  /** The organisation's name, default language and client-code scheme. */
  organisation(): Promise<Organisation>;
  changeOrganisation(form: OrganisationForm): Promise<Organisation>;
  /** Erases a client on their request: every record about them (admins; audited without the code). */
  eraseClient(request: ErasureRequest): Promise<ErasureOut>;
  /**
   * Likely duplicate client records (the user's sites; every site for admins), strongest first,
   * and the newest merges in force.
   */
  duplicates(): Promise<DuplicateReview>;
  /** Merges `merge` into `keep`: one person from now on (audited); the review after it. */
  mergeClients(request: MergeRequest): Promise<DuplicateReview>;
  /** Takes a merge back (its id, as in {@link MergeEntry}); the review after it. */
  undoMerge(id: string): Promise<DuplicateReview>;
  /** Judges a pair to be two people: not offered again; the review after it. */
  dismissDuplicate(request: DismissRequest): Promise<DuplicateReview>;
  /** The sites the user administers, retired ones included. */
  adminSites(): Promise<AdminSite[]>;
  addSite(form: SiteForm): Promise<SavedSite>;
  changeSite(id: string, form: SiteForm): Promise<SavedSite>;
  /** The catalogue and kits, retired entries included, in display order. */
  catalogue(): Promise<Catalogue>;
  addCommodity(commodity: Commodity): Promise<CommodityEntry>;
  changeCommodity(id: string, commodity: Commodity): Promise<CommodityEntry>;
  /** A site's own low-stock threshold; `null` returns to the catalogue's. */
  setThreshold(id: string, site: string, threshold: number | null): Promise<CommodityEntry>;
  addKit(kit: KitTemplate): Promise<KitEntry>;
  changeKit(id: string, kit: KitTemplate): Promise<KitEntry>;
  revokeDevice(id: string): Promise<TabletChanged>;
  renameDevice(id: string, name: string): Promise<TabletChanged>;
  /** Enrolment codes not used yet, newest first. */
  enrolmentCodes(): Promise<OpenCode[]>;
  createEnrolmentCode(form: CodeForm): Promise<NewCode>;
  cancelEnrolmentCode(id: string): Promise<OpenCode>;
  /** Every account (admins). */
  users(): Promise<UserEntry[]>;
  /** Adds an account; the answer holds its temporary password, shown once. */
  addUser(form: UserForm): Promise<TemporaryPassword>;
  changeUser(form: UserForm): Promise<UserEntry>;
  resetPassword(username: string): Promise<TemporaryPassword>;
  setupTotp(username: string): Promise<TotpSetup>;
  removeTotp(username: string): Promise<UserEntry>;
  /** The logged-in user's own new password; every session of theirs ends (log in again). */
  changePassword(change: PasswordChange): Promise<void>;

  // DHIS2 (docs/dhis2.md; admins): the connection, the mappings, a period's preview, file and send.
  /** The DHIS2 server's address, whether a token is stored (never the token), the saved mappings. */
  dhis2(): Promise<Dhis2Settings>;
  /** The address and, when given, a new token (absent keeps the stored one). */
  setDhis2Connection(form: ConnectionForm): Promise<Dhis2Settings>;
  /** Imports a set's mapping: the CSV file's text, checked row by row and saved only whole. */
  saveDhis2Mapping(set: string, csv: string): Promise<Dhis2Settings>;
  /** What the period would send (the period must be one DHIS2 stores, and over). */
  dhis2Preview(set: string, filter: Filter): Promise<Dhis2Preview>;
  /** The address of the period's file (a plain link: the browser sends the cookie). */
  dhis2ExportUrl(set: string, format: Dhis2Format, filter: Filter): string;
  /** Sends the period to DHIS2 (a dry run first; only the dry run with `dry_run`). */
  sendToDhis2(set: string, request: SendRequest): Promise<SendOutcome>;

  // Service packages (docs/indicators.md, "Service packages"; admins).
  /** The programme's own packages, those in force, and the shipped defaults. */
  packages(): Promise<PackagesOut>;
  /** Replaces the programme's own packages (an empty list goes back to the defaults). */
  savePackages(form: PackagesForm): Promise<PackagesOut>;
}

export interface HttpOptions {
  /** Prefix of every path, normally '' (same origin). */
  base?: string;
  fetch?: typeof fetch;
  /** Called when a request other than login/me finds the session gone (401). */
  onSignedOut?: (error: ApiError) => void;
}

type Method = 'GET' | 'POST';

export class HttpDashboardApi implements DashboardApi {
  private csrfToken: string | null = null;
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  onSignedOut: (error: ApiError) => void;

  constructor(options: HttpOptions = {}) {
    this.base = options.base ?? '';
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.onSignedOut = options.onSignedOut ?? (() => {});
  }

  /** The CSRF token currently held (for tests). */
  get csrf(): string | null {
    return this.csrfToken;
  }

  async me(): Promise<SessionInfo> {
    const info = await this.request<SessionInfo>('GET', '/api/v1/auth/me', { auth: true });
    this.csrfToken = info.csrf_token;
    return info;
  }

  async login(request: LoginRequest): Promise<SessionInfo> {
    const body: LoginRequest = { username: request.username, password: request.password };
    if (request.totp) body.totp = request.totp;
    const info = await this.request<SessionInfo>('POST', '/api/v1/auth/login', { body, auth: true });
    this.csrfToken = info.csrf_token;
    return info;
  }

  async logout(): Promise<void> {
    try {
      await this.request<void>('POST', '/api/v1/auth/logout', { auth: true });
    } finally {
      this.csrfToken = null;
    }
  }

  sites(): Promise<DashboardSite[]> {
    return this.request('GET', '/api/v1/dashboard/sites');
  }

  indicators(filter: Filter): Promise<IndicatorsReport> {
    return this.request('GET', `/api/v1/dashboard/indicators?${filterQuery(filter)}`);
  }

  indicatorSets(): Promise<SetSummary[]> {
    return this.request('GET', '/api/v1/dashboard/indicator-sets');
  }

  indicatorSet(set: string, filter: Filter): Promise<SetReport> {
    return this.request('GET', `/api/v1/dashboard/indicator-sets/${encodeURIComponent(set)}?${filterQuery(filter)}`);
  }

  trends(filter: Filter): Promise<Trends> {
    return this.request('GET', `/api/v1/dashboard/trends?${filterQuery(filter)}`);
  }

  surveys(filter: Filter): Promise<SurveyResults> {
    return this.request('GET', `/api/v1/dashboard/surveys?${filterQuery(filter, { withSuppress: false })}`);
  }

  stock(sites: readonly string[]): Promise<StockReport> {
    const query = new URLSearchParams(sites.map((s) => ['site', s])).toString();
    return this.request('GET', `/api/v1/dashboard/stock${query ? `?${query}` : ''}`);
  }

  devices(): Promise<Device[]> {
    return this.request('GET', '/api/v1/dashboard/devices');
  }

  conflicts(status: ConflictStatus): Promise<Conflict[]> {
    return this.request('GET', `/api/v1/dashboard/conflicts?status=${status}`);
  }

  resolveConflict(id: Conflict['id'], action: ConflictAction): Promise<Conflict> {
    const body: Resolve = { action };
    return this.request('POST', `/api/v1/dashboard/conflicts/${encodeURIComponent(String(id))}/resolve`, { body });
  }

  audit(): Promise<AuditEntry[]> {
    return this.request('GET', '/api/v1/dashboard/audit');
  }

  exportUrl(kind: ExportKind, format: ExportFormat, filter: Filter): string {
    return this.base + exportUrl(kind, format, filter);
  }

  forms(): Promise<PublishedForm[]> {
    return this.request('GET', '/api/v1/dashboard/forms');
  }

  checkForm(file: Blob, name: string): Promise<FormCheck> {
    return this.request('POST', `/api/v1/dashboard/forms/check?${new URLSearchParams({ name })}`, { body: file });
  }

  publishForm(file: Blob, name: string): Promise<Published> {
    return this.request('POST', `/api/v1/dashboard/forms/publish?${new URLSearchParams({ name })}`, { body: file });
  }

  retireForm(formId: string, version: number): Promise<Published> {
    return this.request('POST', `/api/v1/dashboard/forms/${encodeURIComponent(formId)}/${version}/retire`);
  }

  previewForm(request: PreviewRequest): Promise<FormState> {
    return this.request('POST', '/api/v1/dashboard/forms/preview', { body: request });
  }

  organisation(): Promise<Organisation> {
    return this.request('GET', '/api/v1/dashboard/admin/organisation');
  }

  changeOrganisation(form: OrganisationForm): Promise<Organisation> {
    return this.request('POST', '/api/v1/dashboard/admin/organisation', { body: form });
  }

  eraseClient(request: ErasureRequest): Promise<ErasureOut> {
    return this.request('POST', '/api/v1/dashboard/admin/clients/erase', { body: request });
  }

  duplicates(): Promise<DuplicateReview> {
    return this.request('GET', '/api/v1/dashboard/admin/duplicates');
  }

  mergeClients(request: MergeRequest): Promise<DuplicateReview> {
    // The server refuses unknown fields: only the two ids go.
    const body: MergeRequest = { keep: request.keep, merge: request.merge };
    return this.request('POST', '/api/v1/dashboard/admin/merges', { body });
  }

  undoMerge(id: string): Promise<DuplicateReview> {
    return this.request('POST', `/api/v1/dashboard/admin/merges/${encodeURIComponent(id)}/undo`, { body: {} });
  }

  dismissDuplicate(request: DismissRequest): Promise<DuplicateReview> {
    const body: DismissRequest = { a: request.a, b: request.b };
    return this.request('POST', '/api/v1/dashboard/admin/duplicates/dismiss', { body });
  }

  adminSites(): Promise<AdminSite[]> {
    return this.request('GET', '/api/v1/dashboard/admin/sites');
  }

  addSite(form: SiteForm): Promise<SavedSite> {
    return this.request('POST', '/api/v1/dashboard/admin/sites', { body: form });
  }

  changeSite(id: string, form: SiteForm): Promise<SavedSite> {
    return this.request('POST', `/api/v1/dashboard/admin/sites/${encodeURIComponent(id)}`, { body: form });
  }

  catalogue(): Promise<Catalogue> {
    return this.request('GET', '/api/v1/dashboard/admin/catalogue');
  }

  addCommodity(commodity: Commodity): Promise<CommodityEntry> {
    return this.request('POST', '/api/v1/dashboard/admin/commodities', { body: commodity });
  }

  changeCommodity(id: string, commodity: Commodity): Promise<CommodityEntry> {
    return this.request('POST', `/api/v1/dashboard/admin/commodities/${encodeURIComponent(id)}`, { body: commodity });
  }

  setThreshold(id: string, site: string, threshold: number | null): Promise<CommodityEntry> {
    const path = `/api/v1/dashboard/admin/commodities/${encodeURIComponent(id)}/threshold`;
    return this.request('POST', path, { body: { site, threshold } });
  }

  addKit(kit: KitTemplate): Promise<KitEntry> {
    return this.request('POST', '/api/v1/dashboard/admin/kits', { body: kit });
  }

  changeKit(id: string, kit: KitTemplate): Promise<KitEntry> {
    return this.request('POST', `/api/v1/dashboard/admin/kits/${encodeURIComponent(id)}`, { body: kit });
  }

  revokeDevice(id: string): Promise<TabletChanged> {
    return this.request('POST', `/api/v1/dashboard/admin/devices/${encodeURIComponent(id)}/revoke`);
  }

  renameDevice(id: string, name: string): Promise<TabletChanged> {
    return this.request('POST', `/api/v1/dashboard/admin/devices/${encodeURIComponent(id)}/rename`, { body: { name } });
  }

  enrolmentCodes(): Promise<OpenCode[]> {
    return this.request('GET', '/api/v1/dashboard/admin/enrolment-codes');
  }

  createEnrolmentCode(form: CodeForm): Promise<NewCode> {
    return this.request('POST', '/api/v1/dashboard/admin/enrolment-codes', { body: form });
  }

  cancelEnrolmentCode(id: string): Promise<OpenCode> {
    return this.request('POST', `/api/v1/dashboard/admin/enrolment-codes/${encodeURIComponent(id)}/cancel`);
  }

  users(): Promise<UserEntry[]> {
    return this.request('GET', '/api/v1/dashboard/admin/users');
  }

  addUser(form: UserForm): Promise<TemporaryPassword> {
    return this.request('POST', '/api/v1/dashboard/admin/users', { body: form });
  }

  changeUser(form: UserForm): Promise<UserEntry> {
    return this.request('POST', `/api/v1/dashboard/admin/users/${encodeURIComponent(form.username)}`, { body: form });
  }

  resetPassword(username: string): Promise<TemporaryPassword> {
    return this.request('POST', `/api/v1/dashboard/admin/users/${encodeURIComponent(username)}/password`);
  }

  setupTotp(username: string): Promise<TotpSetup> {
    return this.request('POST', `/api/v1/dashboard/admin/users/${encodeURIComponent(username)}/totp`);
  }

  removeTotp(username: string): Promise<UserEntry> {
    return this.request('POST', `/api/v1/dashboard/admin/users/${encodeURIComponent(username)}/totp/remove`);
  }

  async changePassword(change: PasswordChange): Promise<void> {
    await this.request<void>('POST', '/api/v1/auth/password', { body: change, auth: true });
    this.csrfToken = null;
  }

  dhis2(): Promise<Dhis2Settings> {
    return this.request('GET', '/api/v1/dashboard/admin/dhis2');
  }

  setDhis2Connection(form: ConnectionForm): Promise<Dhis2Settings> {
    const body: ConnectionForm = { url: form.url };
    if (form.token) body.token = form.token;
    return this.request('POST', '/api/v1/dashboard/admin/dhis2/connection', { body });
  }

  saveDhis2Mapping(set: string, csv: string): Promise<Dhis2Settings> {
    return this.request('POST', `/api/v1/dashboard/admin/dhis2/mappings/${encodeURIComponent(set)}`, { body: new CsvText(csv) });
  }

  dhis2Preview(set: string, filter: Filter): Promise<Dhis2Preview> {
    return this.request('GET', `/api/v1/dashboard/admin/dhis2/${encodeURIComponent(set)}/preview?${filterQuery(filter)}`);
  }

  dhis2ExportUrl(set: string, format: Dhis2Format, filter: Filter): string {
    return this.base + dhis2ExportUrl(set, format, filter);
  }

  sendToDhis2(set: string, request: SendRequest): Promise<SendOutcome> {
    const body: SendRequest = { from: request.from, to: request.to, dry_run: request.dry_run };
    if (request.sites && request.sites.length > 0) body.sites = [...request.sites];
    if (request.suppress !== undefined) body.suppress = request.suppress;
    return this.request('POST', `/api/v1/dashboard/admin/dhis2/${encodeURIComponent(set)}/send`, { body });
  }

  packages(): Promise<PackagesOut> {
    return this.request('GET', '/api/v1/dashboard/admin/packages');
  }

  savePackages(form: PackagesForm): Promise<PackagesOut> {
    return this.request('POST', '/api/v1/dashboard/admin/packages', { body: form });
  }

  private async request<T>(method: Method, path: string, options: { body?: unknown; auth?: boolean } = {}): Promise<T> {
    const first = await this.send(method, path, options.body);
    let response = first;
    // A CSRF token can go stale (the server restarted, the session was renewed in another tab):
    // fetch the current one and try once more.
    if (method === 'POST' && !options.auth && first.status === 403) {
      const error = await readError(first.clone());
      if (error.code === 'csrf_failed') {
        await this.me();
        response = await this.send(method, path, options.body);
      }
    }
    if (response.ok) {
      if (response.status === 204) return undefined as T;
      const text = await response.text();
      return (text ? JSON.parse(text) : undefined) as T;
    }
    const error = await readError(response);
    if (response.status === 401 && !options.auth) {
      this.csrfToken = null;
      this.onSignedOut(error);
    }
    throw error;
  }

  private async send(method: Method, path: string, body: unknown): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    // A file goes as its bytes, a CSV as its text; anything else as JSON.
    const file = body instanceof Blob;
    const csv = body instanceof CsvText;
    if (body !== undefined) headers['Content-Type'] = file ? 'application/octet-stream' : csv ? 'text/csv; charset=utf-8' : 'application/json';
    if (method === 'POST' && this.csrfToken) headers['X-CSRF-Token'] = this.csrfToken;
    try {
      return await this.fetchFn(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : file ? body : csv ? body.text : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (e) {
      throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
    }
  }
}

/** A CSV file's text, sent as the body as it is (`text/csv`). */
class CsvText {
  constructor(readonly text: string) {}
}

/** The server's error body, or a stand-in when the answer came from something else (a proxy). */
async function readError(response: Response): Promise<ApiError> {
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The body could not be read: fall through to the stand-in.
  }
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown; details?: unknown };
    if (body && typeof body.code === 'string') {
      const message = typeof body.message === 'string' ? body.message : '';
      const details = Array.isArray(body.details) ? body.details : [];
      return new ApiError(response.status, body.code, message, details, retryAfter);
    }
  } catch {
    // Not JSON.
  }
  return new ApiError(response.status, `http_${response.status}`, response.statusText || '', [], retryAfter);
}
