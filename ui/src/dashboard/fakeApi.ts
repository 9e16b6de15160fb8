/**
 * An in-memory dashboard server for component tests and the browser preview (`npm run
 * dev:dashboard`). It follows docs/dashboard-api.md: the same answers, error codes and rules
 * (CSRF token on POST, 401 without a session, 403 for field staff, small-cell suppression).
 * Every call is recorded so tests can check what was asked.
 */
import {
  ApiError,
  type AuditEntry,
  type Breakdown,
  type Conflict,
  type ConflictAction,
  type ConflictStatus,
  type DashboardApi,
  type DashboardSite,
  type Device,
  type ExportFormat,
  type ExportKind,
  type FormCheck,
  type FormState,
  type PreviewRequest,
  type Published,
  type PublishedForm,
  type Indicator,
  type IndicatorsReport,
  type LoginRequest,
  type SessionInfo,
  type SetReport,
  type SetSummary,
  type StockReport,
  type SurveyResults,
  type Trends,
  type Unit,
  type User,
  type AdminSite,
  type Catalogue,
  type CodeForm,
  type Commodity,
  type CommodityEntry,
  type KitEntry,
  type KitTemplate,
  type NewCode,
  type OpenCode,
  type SavedSite,
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
  type DuplicateReview,
  type MergeEntry,
  type MergeRequest,
  type ReviewRecord,
  type ConnectionForm,
  type Dhis2Format,
  type Dhis2Preview,
  type Dhis2Settings,
  type MappingInfo,
  type PackagesForm,
  type PackagesOut,
  type SendOutcome,
  type SendRequest,
  type ServicePackage,
} from './api';
import { MAX_FAILED_LOGINS } from './generated/api';
import { exchanges, isAnswered, recordedAnswer, sameArgs } from '../lib/fixtures';
import {
  DEMO_SITES,
  RECORDED_FORMS,
  demoAudit,
  demoCatalogue,
  demoConflicts,
  demoDevices,
  demoDuplicates,
  demoIndicators,
  demoOrganisation,
  demoStock,
  demoSurveys,
  demoTrends,
  pairId,
  type DemoClient,
  type DemoDuplicates,
} from './fakeData';
import {
  DEMO_SETS,
  demoSetReport,
  demoSetSummaries,
  checkDemoMapping,
  demoDhis2Preview,
  demoSet,
  DEMO_KP_PREV_MAPPING,
} from './fakeDonorData';
import { isoDate } from '../lib/logic/dates';
import { dhis2Period, MAPPING_HEADER } from './logic/dhis2';
import { defaultPackages, effectivePackages, packageProblems } from './logic/packages';
import { isWholeMonths } from './logic/period';
import { dhis2ExportUrl, exportUrl, type Filter } from './logic/query';

export interface FakeAccount {
  user: User;
  password: string;
  disabled?: boolean;
  lastLoginMs?: number;
  /** The one code accepted as second factor, when the account has one. */
  totp?: string;
}

export interface FakeOptions {
  /** Start with a valid session for this username. */
  signedInAs?: string;
  /** Milliseconds every answer waits (the preview feels like a network). */
  delayMs?: number;
  nowMs?: number;
}

export { DEMO_SITES };

const SITE_REFS = DEMO_SITES.map(({ id, name }) => ({ id, name }));

export const DEMO_ACCOUNTS: FakeAccount[] = [
  {
    user: { id: 'u-coord', username: 'coordinator', role: 'coordinator', sites: SITE_REFS.slice(0, 2), totp: false, password_temporary: false },
    password: 'correct horse',
  },
  {
    user: { id: 'u-admin', username: 'admin', role: 'admin', sites: SITE_REFS, totp: true, password_temporary: false },
    password: 'battery staple',
    totp: '123456',
  },
  {
    user: { id: 'u-worker', username: 'worker', role: 'outreach_worker', sites: SITE_REFS.slice(0, 1), totp: false, password_temporary: false },
    password: 'worker password',
  },
];

const DAY = 86_400_000;
/** The server's record ids are UUIDs; anything else is refused as `422 invalid_field`. */
const RECORD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The most merges the review lists (the server's `MAX_MERGES_LISTED`). */
const MAX_MERGES_LISTED = 50;

interface Call {
  method: string;
  args: unknown[];
}


export class FakeDashboardApi implements DashboardApi {
  readonly calls: Call[] = [];
  accounts: FakeAccount[] = DEMO_ACCOUNTS.map((a) => ({ ...a, user: { ...a.user } }));
  session: { user: User; csrf: string } | null = null;
  /** Logins are refused (`429`) after the server's number of failures (its own constant). */
  failedLogins = 0;
  readonly maxFailedLogins = MAX_FAILED_LOGINS;
  nowMs: number;
  delayMs: number;
  conflictList: Conflict[];
  deviceList: Device[];
  /** The sites as the administration page edits them. */
  siteList: AdminSite[] = DEMO_SITES.map((s) => ({
    id: s.id,
    name: s.name,
    pwid_estimate: s.pwid_estimate,
    population_estimates: {},
    retired: false,
    active_devices: 1,
  }));
  catalogueData: Catalogue = demoCatalogue();
  org: Organisation = demoOrganisation();
  /** Codes an erasure finds, with how many records it removes. */
  erasable = new Map<string, number>([['MAIV287', 7]]);
  /** Client records, the pairs the matching finds, merges written and pairs judged two people. */
  people: DemoDuplicates;
  /** The most pairs a review lists (the server's `MAX_PAIRS`, 100); tests lower it. */
  maxPairs = 100;
  private mergeCounter = 0;
  codes: OpenCode[] = [];
  private codeCounter = 0;
  /** Set to make the next call of that method fail with this error. */
  failNext: Partial<Record<keyof DashboardApi, ApiError>> = {};
  /** Every version of every form, as `forms` lists them. */
  published: PublishedForm[] = structuredClone([...RECORDED_FORMS]) as PublishedForm[];
  private csrfCounter = 0;
  /** The DHIS2 server's address and token (the fake keeps the token; the real one seals it). */
  dhis2Url: string | null = 'https://dhis2.example.org';
  dhis2Token: string | null = 'd2pat_demo0token0demo0token';
  /** Saved mappings per set: the CSV as imported, who saved it and when. */
  dhis2Mappings = new Map<string, { csv: string; saved_by: string; saved_ms: number }>();
  /** What DHIS2 would complain about (its conflicts); none: every value is taken. */
  dhis2Conflicts: string[] = [];
  /** DHIS2 cannot be reached (the send answers `502 upstream`). */
  dhis2Unreachable = false;
  /** Periods DHIS2 holds values of (`set|period|org unit`): sending again updates them. */
  private dhis2Held = new Set<string>();
  /** The programme's own service packages (none: the shipped ones). */
  ownPackages: ServicePackage[] = [];

  constructor(options: FakeOptions = {}) {
    this.nowMs = options.nowMs ?? Date.now();
    this.delayMs = options.delayMs ?? 0;
    this.conflictList = demoConflicts(this.nowMs);
    this.deviceList = demoDevices(this.nowMs);
    this.people = demoDuplicates(this.nowMs);
    this.dhis2Mappings.set('pepfar_kp_prev', { csv: DEMO_KP_PREV_MAPPING, saved_by: 'user:admin', saved_ms: this.nowMs - 12 * DAY });
    // A mapping saved before a site it names was renamed: shown with its problem.
    this.dhis2Mappings.set('global_fund', {
      csv: `${MAPPING_HEADER}\ndata_set,,,aGfKpData01,,\norg_unit,Drop-in center,,aSiteDropIn,,\nvalue,kp_1d,,aGfKp1dTot1,,\n`,
      saved_by: 'user:admin',
      saved_ms: this.nowMs - 200 * DAY,
    });
    if (options.signedInAs) {
      const account = this.accounts.find((a) => a.user.username === options.signedInAs);
      if (!account) throw new Error(`no demo account ${options.signedInAs}`);
      this.session = { user: account.user, csrf: this.newCsrf() };
    }
  }

  callsOf(method: keyof DashboardApi): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  /** The session expires on the server (the next call answers 401 session_expired). */
  expireSession(): void {
    this.session = null;
    this.expired = true;
  }
  private expired = false;

  private newCsrf(): string {
    this.csrfCounter += 1;
    return `csrf-${this.csrfCounter}`;
  }

  private async answer<T>(method: keyof DashboardApi, args: unknown[], body: () => T): Promise<T> {
    this.calls.push({ method, args });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    else await Promise.resolve();
    const failure = this.failNext[method];
    if (failure) {
      delete this.failNext[method];
      throw failure;
    }
    return body();
  }

  private requireUser(options: { dashboard?: boolean; admin?: boolean } = { dashboard: true }): User {
    if (!this.session) {
      if (this.expired) throw new ApiError(401, 'session_expired', 'Your session has expired.');
      throw new ApiError(401, 'not_logged_in', 'Sign in first.');
    }
    const { user } = this.session;
    if (options.dashboard && user.role !== 'coordinator' && user.role !== 'admin') {
      throw new ApiError(403, 'forbidden', 'The dashboard is for coordinators and admins.');
    }
    if (options.admin && user.role !== 'admin') throw new ApiError(403, 'forbidden', 'Only admins may read the audit log.');
    if (options.dashboard && user.password_temporary) {
      throw new ApiError(403, 'password_change_required', 'your password is a temporary one: choose your own first');
    }
    return user;
  }

  private visibleSites(user: User): DashboardSite[] {
    if (user.role === 'admin') return DEMO_SITES;
    return DEMO_SITES.filter((s) => user.sites.some((u) => u.id === s.id));
  }

  private checkSites(user: User, sites: readonly string[]): DashboardSite[] {
    const visible = this.visibleSites(user);
    for (const s of sites) {
      if (!visible.some((v) => v.id === s)) throw new ApiError(403, 'forbidden', `Site ${s} is not one of yours.`);
    }
    return sites.length === 0 ? visible : visible.filter((v) => sites.includes(v.id));
  }

  me(): Promise<SessionInfo> {
    return this.answer('me', [], () => {
      const user = this.requireUser({});
      return { user, csrf_token: this.session!.csrf };
    });
  }

  login(request: LoginRequest): Promise<SessionInfo> {
    return this.answer('login', [request], () => {
      if (this.failedLogins >= this.maxFailedLogins) {
        // The server's Retry-After is what is left of FAILED_LOGIN_WINDOW_MS since the oldest
        // failure it still counts; the fake answers as if that was a minute.
        throw new ApiError(429, 'rate_limited', 'Too many failed attempts. Wait before trying again.', [], 60);
      }
      const account = this.accounts.find((a) => a.user.username === request.username.trim());
      if (!account || account.password !== request.password || account.disabled) {
        this.failedLogins += 1;
        throw new ApiError(401, 'login_failed', 'Wrong username or password.');
      }
      if (account.totp && request.totp !== account.totp) {
        if (request.totp) this.failedLogins += 1;
        throw new ApiError(401, 'totp_required', 'Enter the 6-digit code from your authenticator app.');
      }
      this.failedLogins = 0;
      this.expired = false;
      this.session = { user: account.user, csrf: this.newCsrf() };
      account.lastLoginMs = this.nowMs;
      return { user: account.user, csrf_token: this.session.csrf };
    });
  }

  logout(): Promise<void> {
    return this.answer('logout', [], () => {
      this.session = null;
    });
  }

  sites(): Promise<DashboardSite[]> {
    return this.answer('sites', [], () => this.visibleSites(this.requireUser()));
  }

  indicators(filter: Filter): Promise<IndicatorsReport> {
    return this.answer('indicators', [filter], () => {
      const sites = this.checkSites(this.requireUser(), filter.sites);
      return demoIndicators(filter, sites);
    });
  }

  indicatorSets(): Promise<SetSummary[]> {
    return this.answer('indicatorSets', [], () => {
      this.requireUser();
      return demoSetSummaries();
    });
  }

  /** A set for the filter, refused as the server refuses it (unknown set, a future or cut period). */
  indicatorSet(set: string, filter: Filter): Promise<SetReport> {
    return this.answer('indicatorSet', [set, filter], () => {
      const user = this.requireUser();
      const found = DEMO_SETS.find((s) => s.key === set);
      if (!found) {
        throw new ApiError(404, 'not_found', `no indicator set named "${set}"; use one of ${DEMO_SETS.map((s) => s.key).join(', ')}`);
      }
      const sites = this.checkSites(user, filter.sites);
      const today = isoDate(new Date(this.nowMs));
      if (filter.from > today) throw new ApiError(400, 'invalid_query', `from: the period starts in the future (${filter.from})`);
      if (filter.suppress && !isWholeMonths(filter, today)) {
        const message = filter.from.endsWith('-01')
          ? 'to: while small numbers are hidden, a report ends on the last day of a month or runs to today'
          : 'from: while small numbers are hidden, a report starts on the 1st of a month';
        throw new ApiError(400, 'invalid_query', message);
      }
      return demoSetReport(found, filter, sites, this.org);
    });
  }

  trends(filter: Filter): Promise<Trends> {
    return this.answer('trends', [filter], () => {
      const sites = this.checkSites(this.requireUser(), filter.sites);
      return demoTrends(filter, sites);
    });
  }

  surveys(filter: Filter): Promise<SurveyResults> {
    return this.answer('surveys', [filter], () => {
      const sites = this.checkSites(this.requireUser(), filter.sites);
      return demoSurveys(filter, sites);
    });
  }

  /**
   * The organisation's forms: the default form as the real server published it (from the
   * tablet's recorded fixtures), plus what was published or retired here.
   */
  forms(): Promise<PublishedForm[]> {
    return this.answer('forms', [], () => {
      this.requireUser();
      return structuredClone(this.published);
    });
  }

  /**
   * A workbook's check. The fake reads no spreadsheet: a file named `*.xlsx` stands for the
   * shipped default form (as the real server imported it), anything else is refused as the
   * server refuses a file that is not a workbook.
   */
  checkForm(file: Blob, name: string): Promise<FormCheck> {
    return this.answer('checkForm', [file, name], () => {
      this.requireUser();
      if (!name.endsWith('.xlsx')) throw new ApiError(422, 'not_a_workbook', 'the file is not an Excel workbook (.xlsx or .xls)');
      return { form: structuredClone(RECORDED_FORMS[0].definition), errors: [], warnings: [] };
    });
  }

  publishForm(file: Blob, name: string): Promise<Published> {
    return this.answer('publishForm', [file, name], () => {
      this.requireUser();
      if (!name.endsWith('.xlsx')) throw new ApiError(422, 'not_a_workbook', 'the file is not an Excel workbook (.xlsx or .xls)');
      const base = RECORDED_FORMS[0];
      const version = Math.max(...this.published.filter((f) => f.form_id === base.form_id).map((f) => f.version)) + 1;
      this.published.push({ ...structuredClone(base), version, published_at: new Date(this.nowMs).toISOString() });
      return { form_id: base.form_id, version };
    });
  }

  retireForm(formId: string, version: number): Promise<Published> {
    return this.answer('retireForm', [formId, version], () => {
      this.requireUser();
      const form = this.published.find((f) => f.form_id === formId && f.version === version);
      if (!form) throw new ApiError(404, 'not_found', `form ${formId} has no version ${version}`);
      if (form.status === 'retired') throw new ApiError(409, 'conflict', `${formId} version ${version} is retired already`);
      form.status = 'retired';
      return { form_id: formId, version };
    });
  }

  /**
   * Core's check of a preview's answers: the fake never evaluates a form, it answers the checks
   * the real tablet commands recorded for the same form, answers and language.
   */
  previewForm(request: PreviewRequest): Promise<FormState> {
    return this.answer('previewForm', [request], () => {
      this.requireUser();
      const found = exchanges('check_form').find(
        (e) => isAnswered(e) && e.args.formId === request.form.id && e.args.language === request.language && sameArgs(e.args.answers, request.answers),
      );
      if (!found || !isAnswered(found)) throw new ApiError(400, 'not_recorded', 'this preview check was not recorded (backend_fixtures.rs)');
      return structuredClone(found.ok) as FormState;
    });
  }

  stock(siteIds: readonly string[]): Promise<StockReport> {
    return this.answer('stock', [siteIds], () => {
      const sites = this.checkSites(this.requireUser(), siteIds);
      return demoStock(sites, this.nowMs);
    });
  }

  devices(): Promise<Device[]> {
    return this.answer('devices', [], () => {
      const user = this.requireUser();
      const mine = (d: Device) => user.role === 'admin' || d.sites.every((name) => user.sites.some((s) => s.name === name));
      return this.deviceList.map((d) => ({ ...d, manageable: mine(d) }));
    });
  }

  conflicts(status: ConflictStatus): Promise<Conflict[]> {
    return this.answer('conflicts', [status], () => {
      this.requireUser();
      const list = status === 'open' ? this.conflictList.filter((c) => c.resolved_ms === null) : this.conflictList;
      return list.map((c) => ({ ...c }));
    });
  }

  resolveConflict(id: Conflict['id'], action: ConflictAction): Promise<Conflict> {
    return this.answer('resolveConflict', [id, action], () => {
      this.requireUser();
      const conflict = this.conflictList.find((c) => c.id === id);
      if (!conflict) throw new ApiError(404, 'not_found', 'No such conflict.');
      if (conflict.resolved_ms !== null) throw new ApiError(409, 'conflict', 'This conflict was already resolved.');
      conflict.resolved_ms = this.nowMs;
      conflict.resolution = action === 'accept' ? 'accepted' : 'reverted';
      return { ...conflict };
    });
  }

  audit(): Promise<AuditEntry[]> {
    return this.answer('audit', [], () => {
      this.requireUser({ dashboard: true, admin: true });
      return demoAudit(this.nowMs);
    });
  }

  exportUrl(kind: ExportKind, format: ExportFormat, filter: Filter): string {
    return exportUrl(kind, format, filter);
  }

  // --- administration ---------------------------------------------------------------------

  private requireManager(site?: string): User {
    const user = this.requireUser();
    if (user.role !== 'admin' && (site === undefined || !user.sites.some((s) => s.id === site))) {
      throw new ApiError(403, 'forbidden', site === undefined ? 'this is for administrators' : `site ${site} is not one of yours`);
    }
    return user;
  }

  private checkName(name: string, field = 'name'): string {
    const clean = name.trim();
    if (clean.length === 0 || clean.length > 200) {
      throw new ApiError(422, 'invalid_field', `${field}: a name is 1 to 200 characters`);
    }
    return clean;
  }

  organisation(): Promise<Organisation> {
    return this.answer('organisation', [], () => {
      this.requireUser();
      return structuredClone(this.org);
    });
  }

  changeOrganisation(form: OrganisationForm): Promise<Organisation> {
    return this.answer('changeOrganisation', [form], () => {
      this.requireManager();
      const name = this.checkName(form.name);
      if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(form.default_language)) {
        throw new ApiError(422, 'invalid_field', 'default_language: not a language code such as en, ru or uk');
      }
      if (form.uic_scheme.name !== this.org.uic_scheme.name && !this.org.scheme_changeable) {
        throw new ApiError(409, 'clash', 'the scheme cannot change: clients already have codes of the current scheme');
      }
      const days = form.retention_days ?? null;
      if (days !== null && (!Number.isInteger(days) || days < 30 || days > 36500)) {
        throw new ApiError(422, 'invalid_field', 'retention_days: a retention period is 30 to 36500 days (or none)');
      }
      const target = form.nsp_target ?? null;
      if (target !== null && (!Number.isInteger(target) || target < 50 || target > 2000)) {
        throw new ApiError(422, 'invalid_field', 'nsp_target: a needle-syringe target is 50 to 2000 per person who injects drugs per year (or none for the default)');
      }
      this.org = {
        ...this.org,
        name,
        default_language: form.default_language,
        uic_scheme: structuredClone(form.uic_scheme),
        retention_days: days,
        client_index: form.client_index ?? false,
        nsp_target: target ?? 300,
        nsp_target_set: target !== null,
      };
      return structuredClone(this.org);
    });
  }

  eraseClient(request: ErasureRequest): Promise<ErasureOut> {
    return this.answer('eraseClient', [request], () => {
      this.requireManager();
      const code = request.code.trim().toUpperCase();
      const reason = request.reason.trim();
      const details: { field: string; code: string; message: string }[] = [];
      if (!/^[A-Z0-9]{4,20}$/.test(code)) details.push({ field: 'code', code: 'invalid', message: 'not a client code of this programme' });
      if (reason.length === 0) details.push({ field: 'reason', code: 'required', message: 'say why' });
      if (reason.length > 500) details.push({ field: 'reason', code: 'too_long', message: 'at most 500 characters' });
      if (details.length > 0) {
        throw new ApiError(422, 'invalid_field', details.map((d) => `${d.field}: ${d.message}`).join('; '));
      }
      const records = this.erasable.get(code);
      if (records === undefined) throw new ApiError(404, 'not_found', 'no client has that code');
      this.erasable.delete(code);
      return { clients: 1, records };
    });
  }

  // --- the duplicate review (coordinators: their sites' records; admins: every record) ---------

  private activeMerges() {
    return this.people.merges.filter((m) => m.undone_ms === null);
  }

  /** The record a record counts as: itself, or the one it was merged into (and so on). */
  private personOf(id: string): string {
    const active = this.activeMerges();
    let person = id;
    for (let hops = 0; hops <= active.length; hops++) {
      const next = active.find((m) => m.from === person);
      if (!next) break;
      person = next.into;
    }
    return person;
  }

  private inScope(user: User, client: DemoClient): boolean {
    return user.role === 'admin' || user.sites.some((s) => s.id === client.siteId);
  }

  /** A record id as the server reads one (a UUID), or `422 invalid_field`. */
  private recordId(field: string, text: string): string {
    const id = text.trim().toLowerCase();
    if (!RECORD_ID.test(id)) throw new ApiError(422, 'invalid_field', `${field}: ${JSON.stringify(text)} is not a record id`);
    return id;
  }

  /** A live client record the user may merge: `404 not_found`, or `403 forbidden` for another site's. */
  private reviewClient(user: User, id: string): DemoClient {
    const client = this.people.clients.find((c) => c.record.id === id);
    if (!client) throw new ApiError(404, 'not_found', `no client record ${id}`);
    if (!this.inScope(user, client)) {
      throw new ApiError(403, 'forbidden', `client record ${id} was registered at a site that is not one of yours`);
    }
    return client;
  }

  /** The review as the server builds it: strongest pairs first, the newest merges in force. */
  private duplicateReview(user: User): DuplicateReview {
    const mine = new Map(this.people.clients.filter((c) => this.inScope(user, c)).map((c) => [c.record.id, c.record]));
    const active = this.activeMerges();
    const mergedAway = new Set(active.map((m) => m.from));
    /** The record first seen earlier, else the one with more contacts, else the older id. */
    const keepFirst = (a: ReviewRecord, b: ReviewRecord): boolean => {
      if (a.first_seen_at !== b.first_seen_at) {
        if (a.first_seen_at === null) return false;
        if (b.first_seen_at === null) return true;
        return a.first_seen_at < b.first_seen_at;
      }
      if (a.contacts !== b.contacts) return a.contacts > b.contacts;
      return a.id <= b.id;
    };
    const found = this.people.candidates
      .filter(({ a, b }) => mine.has(a) && mine.has(b) && !mergedAway.has(a) && !mergedAway.has(b))
      .filter(({ a, b }) => !this.people.dismissed.has(pairId(a, b)) && this.personOf(a) !== this.personOf(b))
      .map(({ a, b, reason }) => {
        const [x, y] = [mine.get(a)!, mine.get(b)!];
        const [keep, merge] = keepFirst(x, y) ? [x, y] : [y, x];
        const shared = keep.seen_at.filter((s) => merge.seen_at.includes(s)).sort();
        const recent = [keep.last_seen_at, merge.last_seen_at].filter((t) => t !== null).sort().at(-1) ?? '';
        const pair: DuplicatePair = { keep, merge, reason, shared_sites: shared };
        return { pair, recent };
      })
      .sort(
        (p, q) =>
          Number(p.pair.reason === 'near_code') - Number(q.pair.reason === 'near_code') ||
          q.pair.shared_sites.length - p.pair.shared_sites.length ||
          q.recent.localeCompare(p.recent) ||
          p.pair.keep.id.localeCompare(q.pair.keep.id),
      );
    const merges: MergeEntry[] = active
      .filter((m) => mine.has(m.from) && mine.has(m.into))
      .sort((a, b) => b.at_ms - a.at_ms)
      .slice(0, MAX_MERGES_LISTED)
      .map((m) => ({ id: m.id, merged: mine.get(m.from)!, kept: mine.get(m.into)!, merged_at_ms: m.at_ms }));
    return structuredClone({ pairs: found.slice(0, this.maxPairs).map((f) => f.pair), total_pairs: found.length, merges });
  }

  duplicates(): Promise<DuplicateReview> {
    return this.answer('duplicates', [], () => this.duplicateReview(this.requireUser()));
  }

  mergeClients(request: MergeRequest): Promise<DuplicateReview> {
    return this.answer('mergeClients', [request], () => {
      const user = this.requireUser();
      const keep = this.recordId('keep', request.keep);
      const merge = this.recordId('merge', request.merge);
      if (keep === merge) throw new ApiError(422, 'invalid_field', 'merge: a record cannot be merged into itself');
      for (const id of [keep, merge]) this.reviewClient(user, id);
      if (this.personOf(keep) === this.personOf(merge)) throw new ApiError(409, 'clash', 'these two records are one person already');
      for (const [id, side] of [[merge, 'the record to merge'], [keep, 'the record to keep']]) {
        if (this.personOf(id) !== id) throw new ApiError(409, 'clash', `${side} was merged into ${this.personOf(id)} already: merge that record instead`);
      }
      this.mergeCounter += 1;
      const id = `0192f4c0-7a8b-7c9d-8e0f-${String(this.mergeCounter).padStart(12, '0')}`;
      this.people.merges.push({ id, from: merge, into: keep, at_ms: this.nowMs, undone_ms: null });
      return this.duplicateReview(user);
    });
  }

  undoMerge(id: string): Promise<DuplicateReview> {
    return this.answer('undoMerge', [id], () => {
      const user = this.requireUser();
      const merge = this.people.merges.find((m) => m.id === id);
      if (!merge) throw new ApiError(404, 'not_found', `no client merge ${id}`);
      for (const client of [merge.from, merge.into]) this.reviewClient(user, client);
      if (merge.undone_ms !== null) throw new ApiError(409, 'clash', 'this merge was undone already');
      merge.undone_ms = this.nowMs;
      return this.duplicateReview(user);
    });
  }

  dismissDuplicate(request: DismissRequest): Promise<DuplicateReview> {
    return this.answer('dismissDuplicate', [request], () => {
      const user = this.requireUser();
      const a = this.recordId('a', request.a);
      const b = this.recordId('b', request.b);
      if (a === b) throw new ApiError(422, 'invalid_field', 'b: name two different records');
      for (const id of [a, b]) this.reviewClient(user, id);
      this.people.dismissed.add(pairId(a, b));
      return this.duplicateReview(user);
    });
  }

  adminSites(): Promise<AdminSite[]> {
    return this.answer('adminSites', [], () => {
      const user = this.requireUser();
      return this.siteList.filter((s) => user.role === 'admin' || user.sites.some((u) => u.id === s.id)).map((s) => ({ ...s }));
    });
  }

  addSite(form: SiteForm): Promise<SavedSite> {
    return this.answer('addSite', [form], () => {
      this.requireManager();
      const name = this.checkName(form.name);
      if (this.siteList.some((s) => s.name.toLowerCase() === name.toLowerCase())) {
        throw new ApiError(409, 'clash', `a site named "${name}" already exists`);
      }
      const id = `site-${this.siteList.length + 1}`;
      this.siteList.push({ id, name, pwid_estimate: form.pwid_estimate ?? null, population_estimates: form.population_estimates ?? {}, retired: false, active_devices: 0 });
      return { id, name };
    });
  }

  changeSite(id: string, form: SiteForm): Promise<SavedSite> {
    return this.answer('changeSite', [id, form], () => {
      this.requireManager(id);
      const site = this.siteList.find((s) => s.id === id);
      if (!site) throw new ApiError(404, 'not_found', `no site ${id}`);
      const name = this.checkName(form.name);
      if ((name !== site.name || Boolean(form.retired) !== site.retired) && this.session?.user.role !== 'admin') {
        throw new ApiError(403, 'forbidden', 'renaming or retiring a site is for administrators');
      }
      Object.assign(site, { name, pwid_estimate: form.pwid_estimate ?? null, population_estimates: form.population_estimates ?? {}, retired: Boolean(form.retired) });
      return { id, name };
    });
  }

  catalogue(): Promise<Catalogue> {
    return this.answer('catalogue', [], () => {
      this.requireUser();
      return structuredClone(this.catalogueData);
    });
  }

  addCommodity(commodity: Commodity): Promise<CommodityEntry> {
    return this.answer('addCommodity', [commodity], () => {
      this.requireManager();
      const name = this.checkName(commodity.name);
      if (this.catalogueData.commodities.some((c) => c.commodity.code === commodity.code || c.commodity.name === name)) {
        throw new ApiError(409, 'clash', 'another commodities already has that code or name');
      }
      const entry = { id: `c-${this.catalogueData.commodities.length + 1}`, commodity: { ...commodity, name } };
      this.catalogueData.commodities.push(entry);
      return structuredClone(entry);
    });
  }

  changeCommodity(id: string, commodity: Commodity): Promise<CommodityEntry> {
    return this.answer('changeCommodity', [id, commodity], () => {
      this.requireManager();
      const entry = this.catalogueData.commodities.find((c) => c.id === id);
      if (!entry) throw new ApiError(404, 'not_found', `no catalogue entry ${id}`);
      if (entry.commodity.code !== commodity.code) throw new ApiError(422, 'invalid_field', "code: a commodity's code never changes");
      entry.commodity = { ...commodity, name: this.checkName(commodity.name), site_thresholds: entry.commodity.site_thresholds };
      return structuredClone(entry);
    });
  }

  setThreshold(id: string, site: string, threshold: number | null): Promise<CommodityEntry> {
    return this.answer('setThreshold', [id, site, threshold], () => {
      this.requireManager(site);
      const entry = this.catalogueData.commodities.find((c) => c.id === id);
      if (!entry) throw new ApiError(404, 'not_found', `no catalogue entry ${id}`);
      const thresholds = { ...(entry.commodity.site_thresholds ?? {}) };
      if (threshold === null) delete thresholds[site];
      else thresholds[site] = threshold;
      entry.commodity.site_thresholds = thresholds;
      return structuredClone(entry);
    });
  }

  private checkKit(kit: KitTemplate): void {
    for (const item of kit.items) {
      const known = this.catalogueData.commodities.find((c) => c.commodity.code === item.commodity);
      if (!known) throw new ApiError(422, 'invalid_field', `items: "${item.commodity}" is not in the catalogue`);
      if (known.commodity.retired) throw new ApiError(422, 'invalid_field', `items: "${item.commodity}" is retired: it cannot be put in a kit`);
    }
    if (kit.items.length === 0) throw new ApiError(422, 'invalid_field', 'items: a kit holds at least one item');
  }

  addKit(kit: KitTemplate): Promise<KitEntry> {
    return this.answer('addKit', [kit], () => {
      this.requireManager();
      this.checkName(kit.name);
      this.checkKit(kit);
      const entry = { id: `k-${this.catalogueData.kits.length + 1}`, kit: structuredClone(kit) };
      this.catalogueData.kits.push(entry);
      return structuredClone(entry);
    });
  }

  changeKit(id: string, kit: KitTemplate): Promise<KitEntry> {
    return this.answer('changeKit', [id, kit], () => {
      this.requireManager();
      const entry = this.catalogueData.kits.find((k) => k.id === id);
      if (!entry) throw new ApiError(404, 'not_found', `no kit ${id}`);
      if (!kit.retired) this.checkKit(kit);
      entry.kit = structuredClone(kit);
      return structuredClone(entry);
    });
  }

  private manageableDevice(id: string): Device {
    const user = this.requireUser();
    const device = this.deviceList.find((d) => d.id === id);
    if (!device) throw new ApiError(404, 'not_found', `no tablet ${id}`);
    const mine = user.role === 'admin' || device.sites.every((name) => user.sites.some((s) => s.name === name));
    if (!mine) throw new ApiError(403, 'forbidden', `the tablet ${id} works at a site that is not yours`);
    return device;
  }

  revokeDevice(id: string): Promise<TabletChanged> {
    return this.answer('revokeDevice', [id], () => {
      const device = this.manageableDevice(id);
      device.revoked_ms ??= this.nowMs;
      return { id, name: device.name, revoked: true };
    });
  }

  renameDevice(id: string, name: string): Promise<TabletChanged> {
    return this.answer('renameDevice', [id, name], () => {
      const device = this.manageableDevice(id);
      const clean = this.checkName(name);
      if (clean.length > 100) throw new ApiError(422, 'invalid_field', 'name: at most 100 characters');
      device.name = clean;
      return { id, name: clean, revoked: device.revoked_ms !== null };
    });
  }

  enrolmentCodes(): Promise<OpenCode[]> {
    return this.answer('enrolmentCodes', [], () => {
      const user = this.requireUser();
      return this.codes
        .filter((c) => c.expires_ms > this.nowMs && (user.role === 'admin' || user.sites.some((s) => s.id === c.site_id)))
        .map((c) => ({ ...c }));
    });
  }

  createEnrolmentCode(form: CodeForm): Promise<NewCode> {
    return this.answer('createEnrolmentCode', [form], () => {
      this.requireManager(form.site);
      const site = this.siteList.find((s) => s.id === form.site);
      if (!site) throw new ApiError(404, 'not_found', `no site ${form.site}`);
      if (site.retired) throw new ApiError(409, 'clash', `the site "${site.name}" is retired: it takes no new tablets`);
      if (form.valid_hours < 1 || form.valid_hours > 720) throw new ApiError(422, 'invalid_field', 'valid_hours: a code is valid 1 to 720 hours');
      this.codeCounter += 1;
      const code = `DEMO${String(this.codeCounter).padStart(4, '0')}ABCD`;
      const expires = this.nowMs + form.valid_hours * 3_600_000;
      this.codes.unshift({ id: `code${this.codeCounter}`, site_id: site.id, site: site.name, created_ms: this.nowMs, expires_ms: expires, worker: form.worker ?? null });
      const server = 'https://outpost.example.org';
      const link = `${server}/enrol?code=${code}`;
      // A placeholder picture: the real server draws the QR code.
      const qr = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#fff"/><rect x="1" y="1" width="3" height="3"/><rect x="6" y="1" width="3" height="3"/><rect x="1" y="6" width="3" height="3"/></svg>';
      return { code, site: site.name, expires_ms: expires, server, link, qr_svg: qr };
    });
  }

  private requireAdmin(): User {
    const user = this.requireUser();
    if (user.role !== 'admin') throw new ApiError(403, 'forbidden', 'managing accounts is for administrators');
    return user;
  }

  private entryOf(account: FakeAccount): UserEntry {
    const u = account.user;
    return {
      username: u.username,
      role: u.role,
      sites: u.role === 'admin' ? [] : u.sites.map((s) => s.id),
      totp: u.totp,
      disabled: account.disabled ?? false,
      password_temporary: u.password_temporary,
      created_ms: this.nowMs - 90 * DAY,
      last_login_ms: account.lastLoginMs ?? null,
    };
  }

  private account(username: string): FakeAccount {
    const account = this.accounts.find((a) => a.user.username === username.trim().toLowerCase());
    if (!account) throw new ApiError(404, 'not_found', `no user named "${username}"`);
    return account;
  }

  private temporaryPassword(): string {
    this.csrfCounter += 1;
    return `TEMP-${String(this.csrfCounter).padStart(4, '0')}-DEMO-PASS`;
  }

  users(): Promise<UserEntry[]> {
    return this.answer('users', [], () => {
      this.requireAdmin();
      return this.accounts.map((a) => this.entryOf(a));
    });
  }

  addUser(form: UserForm): Promise<TemporaryPassword> {
    return this.answer('addUser', [form], () => {
      this.requireAdmin();
      const username = form.username.trim().toLowerCase();
      if (!/^[a-z0-9._-]{3,64}$/.test(username)) throw new ApiError(422, 'invalid_field', "user names are 3 to 64 characters: lower-case letters, digits, '.', '_' or '-'");
      if (this.accounts.some((a) => a.user.username === username)) throw new ApiError(409, 'clash', `a user named "${username}" already exists`);
      if (form.role !== 'admin' && form.sites.length === 0) throw new ApiError(422, 'invalid_field', 'sites: a user other than an admin works at one site at least');
      const sites = SITE_REFS.filter((s) => form.sites.includes(s.id));
      const password = this.temporaryPassword();
      this.accounts.push({ user: { id: `u-${username}`, username, role: form.role, sites, totp: false, password_temporary: true }, password });
      return { username, password };
    });
  }

  changeUser(form: UserForm): Promise<UserEntry> {
    return this.answer('changeUser', [form], () => {
      const me = this.requireAdmin();
      const account = this.account(form.username);
      if (account.user.username === me.username && (form.disabled || form.role !== 'admin')) {
        throw new ApiError(403, 'forbidden', 'you cannot disable yourself or give up your own admin role');
      }
      account.user.role = form.role;
      account.user.sites = SITE_REFS.filter((s) => form.sites.includes(s.id));
      account.disabled = form.disabled;
      return this.entryOf(account);
    });
  }

  resetPassword(username: string): Promise<TemporaryPassword> {
    return this.answer('resetPassword', [username], () => {
      this.requireAdmin();
      const account = this.account(username);
      account.password = this.temporaryPassword();
      account.user.password_temporary = true;
      return { username: account.user.username, password: account.password };
    });
  }

  setupTotp(username: string): Promise<TotpSetup> {
    return this.answer('setupTotp', [username], () => {
      this.requireAdmin();
      const account = this.account(username);
      account.user.totp = true;
      account.totp = '123456';
      const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
      const link = `otpauth://totp/Outpost:${account.user.username}?secret=${secret}&issuer=Outpost`;
      const qr = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#fff"/><rect x="1" y="1" width="3" height="3"/></svg>';
      return { username: account.user.username, secret, link, qr_svg: qr };
    });
  }

  removeTotp(username: string): Promise<UserEntry> {
    return this.answer('removeTotp', [username], () => {
      this.requireAdmin();
      const account = this.account(username);
      account.user.totp = false;
      delete account.totp;
      return this.entryOf(account);
    });
  }

  changePassword(change: PasswordChange): Promise<void> {
    return this.answer('changePassword', [change], () => {
      const user = this.session?.user;
      if (!user) throw new ApiError(401, 'not_logged_in', 'log in to use the dashboard');
      const account = this.account(user.username);
      if (change.current_password !== account.password) throw new ApiError(403, 'wrong_password', 'the current password is wrong');
      if (change.new_password.length < 10) throw new ApiError(422, 'invalid_field', 'the password must have at least 10 characters');
      account.password = change.new_password;
      account.user.password_temporary = false;
      this.session = null;
    });
  }

  cancelEnrolmentCode(id: string): Promise<OpenCode> {
    return this.answer('cancelEnrolmentCode', [id], () => {
      const code = this.codes.find((c) => c.id === id && c.expires_ms > this.nowMs);
      if (!code) throw new ApiError(404, 'not_found', `no open enrolment code "${id}"`);
      this.requireManager(code.site_id);
      code.expires_ms = this.nowMs;
      return { ...code };
    });
  }

  // --- DHIS2 --------------------------------------------------------------------------------

  private dhis2Settings(): Dhis2Settings {
    const mappings: MappingInfo[] = [...this.dhis2Mappings.entries()].map(([set, saved]) => {
      const found = demoSet(set);
      const checked = found ? checkDemoMapping(found, this.siteList, saved.csv) : null;
      const base = { set, saved_by: saved.saved_by, saved_ms: saved.saved_ms };
      if (checked === null) return { ...base, values: 0, org_units: 0, problem: `the set "${set}" is no longer shipped` };
      if (Array.isArray(checked)) return { ...base, values: 0, org_units: 0, problem: checked.map((p) => `${p.field}: ${p.message}`).join('; ') };
      return { ...base, values: checked.targets.length, org_units: checked.orgUnits.size };
    });
    return { ...(this.dhis2Url ? { url: this.dhis2Url } : {}), token_set: this.dhis2Url !== null && this.dhis2Token !== null, mappings };
  }

  private static invalid(details: { field: string; code: string; message: string }[]): ApiError {
    const full = details.map((d) => ({ index: 0, op_seq: null, ...d }));
    return new ApiError(422, 'invalid_field', details.map((d) => `${d.field}: ${d.message}`).join('; '), full);
  }

  dhis2(): Promise<Dhis2Settings> {
    return this.answer('dhis2', [], () => {
      // Coordinators read it too (they send their own sites); the token is never in it.
      this.requireUser();
      return this.dhis2Settings();
    });
  }

  setDhis2Connection(form: ConnectionForm): Promise<Dhis2Settings> {
    return this.answer('setDhis2Connection', [form], () => {
      this.requireAdmin();
      const problems: { field: string; code: string; message: string }[] = [];
      const url = form.url.trim().replace(/\/+$/, '');
      let parsed: URL | null = null;
      try {
        parsed = new URL(url);
      } catch {
        problems.push({ field: 'url', code: 'invalid_url', message: `${JSON.stringify(url)} is not an address: relative URL without a base` });
      }
      if (parsed) {
        const local = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
        if (!(parsed.protocol === 'https:' || (parsed.protocol === 'http:' && local))) {
          problems.push({ field: 'url', code: 'invalid_url', message: 'use an https:// address (http:// only for a server on this machine)' });
        } else if (parsed.username || parsed.password) {
          problems.push({ field: 'url', code: 'invalid_url', message: 'put no user name or password in the address: the token authenticates' });
        } else if (parsed.search || parsed.hash) {
          problems.push({ field: 'url', code: 'invalid_url', message: "the address is the server's base (e.g. https://dhis2.example.org/dhis), without ? or #" });
        }
      }
      const token = form.token?.trim();
      if (token !== undefined && (token.length === 0 || token.length > 200 || /\s/.test(token))) {
        problems.push({ field: 'token', code: 'invalid_token', message: 'a personal access token is 1 to 200 characters without spaces' });
      }
      if (problems.length > 0) throw FakeDashboardApi.invalid(problems);
      this.dhis2Url = url;
      if (token !== undefined) this.dhis2Token = token;
      return this.dhis2Settings();
    });
  }

  saveDhis2Mapping(set: string, csv: string): Promise<Dhis2Settings> {
    return this.answer('saveDhis2Mapping', [set, csv], () => {
      const user = this.requireAdmin();
      const found = demoSet(set);
      if (!found) throw new ApiError(404, 'not_found', `no indicator set named "${set}"; use one of ${DEMO_SETS.map((s) => s.key).join(', ')}`);
      const checked = checkDemoMapping(found, this.siteList, csv);
      if (Array.isArray(checked)) throw FakeDashboardApi.invalid(checked);
      this.dhis2Mappings.set(set, { csv, saved_by: `user:${user.username}`, saved_ms: this.nowMs });
      return this.dhis2Settings();
    });
  }

  /** The server's `prepare`: a DHIS2 period that is over, the set's mapping, the report per site. */
  private dhis2Prepare(set: string, filter: Filter): Dhis2Preview {
    const user = this.requireUser();
    const found = demoSet(set);
    if (!found) throw new ApiError(404, 'not_found', `no indicator set named "${set}"; use one of ${DEMO_SETS.map((s) => s.key).join(', ')}`);
    const sites = this.checkSites(user, filter.sites);
    const period = dhis2Period(filter);
    if (!period) {
      throw FakeDashboardApi.invalid([
        {
          field: 'period',
          code: 'not_a_dhis2_period',
          message: `${filter.from} to ${filter.to} is not a period DHIS2 keeps data for: choose a month, a quarter, a half-year (January or April, July or October) or a year (January or October)`,
        },
      ]);
    }
    if (filter.to >= isoDate(new Date(this.nowMs))) {
      throw FakeDashboardApi.invalid([
        { field: 'to', code: 'period_not_over', message: `the period has not ended yet (it ends ${filter.to}): send it once it is over` },
      ]);
    }
    const saved = this.dhis2Mappings.get(set);
    if (!saved) throw new ApiError(404, 'not_found', `no mapping for ${found.name}: an admin imports one first`);
    const mapping = checkDemoMapping(found, this.siteList, saved.csv);
    if (Array.isArray(mapping)) {
      throw new ApiError(409, 'clash', `the saved mapping for ${found.name} no longer fits (import it again): ${mapping.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    }
    return demoDhis2Preview(found, mapping, filter, sites, this.org, period);
  }

  /** The server's `ready`: no site without an org unit, something to send. */
  private static dhis2Ready(preview: Dhis2Preview): void {
    const without = preview.sites_without_org_unit;
    if (without.length > 0) {
      throw FakeDashboardApi.invalid([
        {
          field: 'site',
          code: 'site_without_org_unit',
          message: `${without.join(', ')} ${without.length === 1 ? 'has' : 'have'} no org unit in the mapping: add an org_unit row, or leave the site out of the report`,
        },
      ]);
    }
    if (preview.values.length === 0) {
      throw FakeDashboardApi.invalid([
        { field: 'values', code: 'nothing_to_send', message: `nothing to send: ${preview.held_back.length} mapped numbers are held back (suppressed or not computable)` },
      ]);
    }
  }

  dhis2Preview(set: string, filter: Filter): Promise<Dhis2Preview> {
    return this.answer('dhis2Preview', [set, filter], () => this.dhis2Prepare(set, filter));
  }

  dhis2ExportUrl(set: string, format: Dhis2Format, filter: Filter): string {
    return dhis2ExportUrl(set, format, filter);
  }

  sendToDhis2(set: string, request: SendRequest): Promise<SendOutcome> {
    return this.answer('sendToDhis2', [set, request], () => {
      const filter: Filter = { from: request.from, to: request.to, sites: request.sites ?? [], suppress: request.suppress ?? true };
      const preview = this.dhis2Prepare(set, filter);
      FakeDashboardApi.dhis2Ready(preview);
      if (!this.dhis2Url || !this.dhis2Token) {
        throw new ApiError(409, 'clash', 'no DHIS2 server is set: an admin sets its address and token first');
      }
      if (this.dhis2Unreachable) {
        throw new ApiError(502, 'upstream', `DHIS2 at ${this.dhis2Url} cannot be reached: error sending request (connection refused)`);
      }
      const counts = { values: preview.values.length, held_back: preview.held_back.length };
      if (this.dhis2Conflicts.length > 0) {
        const summary = { status: 'WARNING', imported: 0, updated: 0, ignored: preview.values.length, deleted: 0, conflicts: [...this.dhis2Conflicts] };
        const message = 'DHIS2 would refuse some values: nothing was imported. Fix the mapping (or DHIS2\'s metadata) and send again.';
        return { dry_run: request.dry_run, sent: false, ...counts, summary, message };
      }
      const keys = preview.values.map((v) => `${set}|${preview.period}|${v.org_unit}|${v.data_element}|${v.category_option_combo ?? ''}`);
      const updated = keys.filter((k) => this.dhis2Held.has(k)).length;
      const summary = { status: 'SUCCESS', imported: keys.length - updated, updated, ignored: 0, deleted: 0, conflicts: [] };
      if (request.dry_run) {
        return { dry_run: true, sent: false, ...counts, summary, message: 'Dry run: DHIS2 would take every value; nothing was imported.' };
      }
      for (const k of keys) this.dhis2Held.add(k);
      return { dry_run: false, sent: true, ...counts, summary, message: 'Sent: DHIS2 imported the values (a value sent again is updated, never added twice).' };
    });
  }

  // --- service packages ---------------------------------------------------------------------

  private packagesOut(): PackagesOut {
    return { own: structuredClone(this.ownPackages), effective: effectivePackages(this.ownPackages), defaults: defaultPackages() };
  }

  packages(): Promise<PackagesOut> {
    return this.answer('packages', [], () => {
      this.requireAdmin();
      return this.packagesOut();
    });
  }

  savePackages(form: PackagesForm): Promise<PackagesOut> {
    return this.answer('savePackages', [form], () => {
      this.requireAdmin();
      const problems = packageProblems(form.packages);
      if (problems.length > 0) throw FakeDashboardApi.invalid(problems.map((message) => ({ field: 'packages', code: 'invalid_package', message })));
      this.ownPackages = structuredClone(form.packages);
      return this.packagesOut();
    });
  }
}
