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
} from './api';
import { MAX_FAILED_LOGINS } from './generated/api';
import { exchanges, isAnswered, recordedAnswer, sameArgs } from '../lib/fixtures';
import { daysBetween, monthsOf } from './logic/period';
import { exportUrl, type Filter } from './logic/query';

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

export const DEMO_SITES: DashboardSite[] = [
  { id: 'site-dropin', name: 'Drop-in centre', pwid_estimate: 420 },
  { id: 'site-street', name: 'Street outreach team', pwid_estimate: 300 },
  { id: 'site-van', name: 'Mobile van (north)', pwid_estimate: null },
];

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

interface Call {
  method: string;
  args: unknown[];
}

/** The forms the real server published, as the tablet's recorder received them. */
const RECORDED_FORMS: readonly PublishedForm[] = recordedAnswer<PublishedForm[]>('offered_forms', { kind: null });

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
  codes: OpenCode[] = [];
  private codeCounter = 0;
  /** Set to make the next call of that method fail with this error. */
  failNext: Partial<Record<keyof DashboardApi, ApiError>> = {};
  /** Every version of every form, as `forms` lists them. */
  published: PublishedForm[] = structuredClone([...RECORDED_FORMS]) as PublishedForm[];
  private csrfCounter = 0;

  constructor(options: FakeOptions = {}) {
    this.nowMs = options.nowMs ?? Date.now();
    this.delayMs = options.delayMs ?? 0;
    this.conflictList = demoConflicts(this.nowMs);
    this.deviceList = demoDevices(this.nowMs);
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
      this.org = { ...this.org, name, default_language: form.default_language, uic_scheme: structuredClone(form.uic_scheme) };
      return structuredClone(this.org);
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
}

// ---------------------------------------------------------------------------------------------
// Demo data: plausible numbers that scale with the period and the sites chosen
// ---------------------------------------------------------------------------------------------

/** A small deterministic hash, so the same filter always gives the same numbers. */
function seeded(text: string): () => number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return () => {
    h = Math.imul(h ^ (h >>> 15), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return (h >>> 0) / 4294967296;
  };
}

function cell(key: string, value: number, suppress: boolean, people: boolean) {
  const hidden = suppress && people && value > 0 && value < 5;
  return { key, value: hidden ? null : value, suppressed: hidden };
}

function split(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const parts = weights.map((w) => Math.floor((total * w) / sum));
  parts[0] += total - parts.reduce((a, b) => a + b, 0);
  return parts;
}

function demoIndicators(filter: Filter, sites: DashboardSite[]): IndicatorsReport {
  const days = daysBetween(filter.from, filter.to) + 1;
  const scale = (days / 30) * (sites.length / DEMO_SITES.length);
  const rand = seeded(`${filter.from}${filter.to}${sites.map((s) => s.id).join()}`);
  const n = (base: number) => Math.max(0, Math.round(base * scale * (0.85 + rand() * 0.3)));
  const s = filter.suppress;
  const people = n(180);
  const contacts = n(640);
  const syringes = n(9800);
  const returned = Math.round(syringes * (0.55 + rand() * 0.2));
  const pwid = sites.reduce((sum, site) => sum + (site.pwid_estimate ?? 0), 0);
  const perPwid = pwid > 0 ? Math.round(((syringes / pwid) * 365 * 10) / days) / 10 : null;
  const testsHiv = n(46);
  const testsHcv = n(31);
  const reactiveHiv = Math.min(testsHiv, 3);
  const reactiveHcv = Math.min(testsHcv, 7);

  const ind = (key: string, value: number | null, unit: Unit, breakdowns: Breakdown[] = [], isPeople = false): Indicator => {
    const c = value === null ? { value: null, suppressed: false } : cell(key, value, s, isPeople);
    return { key, value: c.value, suppressed: c.suppressed, unit, formula: `${key} (demo)`, breakdowns };
  };
  const peopleRows = (dimension: string, keys: string[], weights: number[], total = people): Breakdown => ({
    dimension,
    rows: split(total, weights).map((v, i) => cell(keys[i], v, s, true)),
  });
  const siteRows = (total: number, isPeople: boolean): Breakdown => ({
    dimension: 'site',
    rows: split(total, sites.map((_, i) => 3 - i)).map((v, i) => cell(sites[i].id, v, s, isPeople)),
  });

  const syringesPerPwid = ind('syringes_per_pwid_per_year', perPwid, 'per_pwid_year');
  if (perPwid !== null) syringesPerPwid.coverage = perPwid < 100 ? 'low' : perPwid <= 200 ? 'medium' : 'high';

  return {
    from: filter.from,
    to: filter.to,
    sites: sites.map((x) => x.id),
    suppression: { enabled: s, threshold: 5 },
    indicators: [
      ind(
        'people_reached',
        people,
        'people',
        [
          peopleRows('gender', ['man', 'woman', 'trans_woman', 'non_binary', 'not_stated'], [62, 31, 1.2, 0.8, 5]),
          peopleRows('age_band_2', ['under_25', '25_plus', 'unknown'], [18, 78, 4]),
          peopleRows('age_band', ['under_15', '15_19', '20_24', '25_49', '50_plus', 'unknown'], [0, 4, 14, 64, 14, 4]),
          peopleRows('key_group', ['injects_drugs', 'uses_stimulants', 'sex_work', 'msm', 'pregnant'], [70, 24, 12, 6, 1], people),
          siteRows(people, true),
        ],
        true,
      ),
      ind('new_clients', Math.round(people * 0.18), 'people', [], true),
      ind('returning_clients', people - Math.round(people * 0.18), 'people', [], true),
      ind('reached_with_package', Math.round(people * 0.64), 'people', [], true),
      ind('contacts', contacts, 'contacts', [
        {
          dimension: 'setting',
          rows: split(contacts, [34, 28, 22, 10, 6]).map((v, i) =>
            cell(['fixed_site', 'window', 'street_outreach', 'mobile_van', 'nightlife'][i], v, s, false),
          ),
        },
        siteRows(contacts, false),
      ]),
      ind('tally_people', n(95), 'people'),
      ind('secondary_distribution', n(57), 'contacts'),
      ind('needle_syringes_distributed', syringes, 'items', [siteRows(syringes, false)]),
      ind('syringes_returned', returned, 'items'),
      ind('return_rate', syringes > 0 ? Math.round((returned / syringes) * 1000) / 10 : null, 'percent'),
      syringesPerPwid,
      ind('nsp_people', Math.round(people * 0.7), 'people', [], true),
      ind('nsp_regular_access', Math.round(people * 0.41), 'people', [], true),
      ind('condoms_distributed', n(2100), 'items'),
      ind('naloxone_distributed', n(64), 'items'),
      ind('overdose_reversals', Math.min(n(3), 4), 'people', [], true),
      ind('tests_done', testsHiv + testsHcv, 'tests', [
        { dimension: 'test', rows: [cell('hiv_rapid', testsHiv, s, true), cell('hcv_rapid', testsHcv, s, true)] },
      ]),
      ind('tests_reactive', reactiveHiv + reactiveHcv, 'tests', [
        { dimension: 'test', rows: [cell('hiv_rapid', reactiveHiv, s, true), cell('hcv_rapid', reactiveHcv, s, true)] },
      ], true),
      ind('linked_to_care', Math.max(0, reactiveHiv + reactiveHcv - 2), 'people', [], true),
      ind('referrals_issued', n(38), 'referrals', [
        {
          dimension: 'target',
          rows: split(n(38), [12, 9, 7, 5, 3, 2]).map((v, i) =>
            cell(['ost', 'hcv_treatment', 'art_hiv_care', 'tb', 'shelter', 'legal_aid'][i], v, s, true),
          ),
        },
      ]),
      ind('referrals_completed', n(21), 'referrals', [
        {
          dimension: 'target',
          rows: split(n(21), [8, 6, 4, 3]).map((v, i) => cell(['ost', 'hcv_treatment', 'art_hiv_care', 'tb'][i], v, s, true)),
        },
      ]),
      ind('ost_referrals', n(12), 'referrals'),
    ],
  };
}

function demoTrends(filter: Filter, sites: DashboardSite[]): Trends {
  const share = sites.length / DEMO_SITES.length;
  const months = monthsOf(filter).map((month, i) => {
    const rand = seeded(month + sites.map((s) => s.id).join());
    const season = 1 + 0.18 * Math.sin((i / 12) * Math.PI * 2);
    const people = Math.round(170 * share * season * (0.9 + rand() * 0.2));
    const syringes = Math.round(9500 * share * season * (0.9 + rand() * 0.2));
    return {
      month,
      people_reached: filter.suppress && people < 5 ? null : people,
      contacts: Math.round(people * 3.4),
      needle_syringes: syringes,
      syringes_returned: Math.round(syringes * (0.55 + rand() * 0.2)),
    };
  });
  const days = daysBetween(filter.from, filter.to) + 1;
  const by_site = sites.map((site, i) => {
    const people = Math.round(((90 - i * 35) * days) / 30);
    return {
      site_id: site.id,
      site_name: site.name,
      people_reached: filter.suppress && people < 5 ? null : people,
      contacts: Math.round(people * 3.6),
      needle_syringes: Math.round(people * 52),
    };
  });
  return { months, by_site };
}

/**
 * Demo results of the shipped community-monitoring form (its definition as the real server
 * published it, from the tablet's recorded fixtures): made-up counts in the shape the server
 * sends, small counts shown as the server hides them.
 */
function demoSurveys(filter: Filter, sites: DashboardSite[]): SurveyResults {
  const days = daysBetween(filter.from, filter.to) + 1;
  const responses = Math.round((days / 30) * 14 * (sites.length / DEMO_SITES.length));
  const form = RECORDED_FORMS[0].definition;
  const hidden = responses < 5;
  const questions = hidden
    ? []
    : form.items.flatMap((item) => {
        if (item.item !== 'question' || (item.kind !== 'select_one' && item.kind !== 'select_multiple') || !item.list) return [];
        const list = form.choices[item.list] ?? [];
        // Most answers on the first choices, fewer further down (multiple choice: a share each).
        const weights = list.map((_, i) => Math.max(1, 60 - i * 15));
        const counts = item.kind === 'select_one' ? split(responses, weights) : list.map((_, i) => Math.round((responses * weights[i]) / 200));
        const choices = list.map((c, i) => ({ name: c.name, label: c.label, count: counts[i] > 0 && counts[i] < 5 ? null : counts[i] }));
        const answered = item.kind === 'select_one' && choices.every((c) => c.count !== null) ? responses : null;
        return [{ name: item.name, kind: item.kind, label: item.label, answered, choices, numbers: null }];
      });
  return {
    threshold: 5,
    forms: [
      {
        form_id: RECORDED_FORMS[0].form_id,
        title: form.title,
        languages: form.languages,
        default_language: form.default_language,
        responses,
        hidden,
        questions,
      },
    ],
  };
}

const STOCK_ITEMS: { commodity: string; name: string; level: number; low: number | null; perDay: number }[] = [
  { commodity: 'syringe_1ml', name: 'Syringe 1 ml (insulin, fixed needle)', level: 2400, low: 1000, perDay: 160 },
  { commodity: 'syringe_2ml', name: 'Syringe 2 ml', level: 380, low: 500, perDay: 35 },
  { commodity: 'alcohol_swab', name: 'Alcohol swab', level: 5200, low: 1000, perDay: 170 },
  { commodity: 'sterile_water', name: 'Sterile water', level: 640, low: 200, perDay: 30 },
  { commodity: 'condom_external', name: 'Condom (external)', level: 1800, low: 300, perDay: 60 },
  { commodity: 'naloxone_nasal', name: 'Naloxone (nasal)', level: 18, low: 20, perDay: 2.1 },
  { commodity: 'foil', name: 'Foil', level: 90, low: null, perDay: 0 },
];

function demoStock(sites: DashboardSite[], nowMs: number): StockReport {
  const levels = sites.flatMap((site, si) =>
    STOCK_ITEMS.map((item) => {
      const level = Math.round(item.level * (1 - si * 0.35));
      const perDay = Math.round(item.perDay * (1 - si * 0.3) * 10) / 10;
      return {
        site_id: site.id,
        site_name: site.name,
        commodity: item.commodity,
        name: item.name,
        level,
        low_threshold: item.low,
        low: item.low !== null && level < item.low,
        used_per_day: perDay,
        days_left: perDay > 0 ? Math.round((level / perDay) * 10) / 10 : null,
      };
    }),
  );
  const day = (back: number) => new Date(nowMs - back * DAY).toISOString().slice(0, 10);
  const history = sites.flatMap((site, si) =>
    STOCK_ITEMS.slice(0, 3).flatMap((item) => {
      const rand = seeded(site.id + item.commodity);
      const out = [];
      let level = Math.round(item.level * 1.6 * (1 - si * 0.35));
      for (let back = 88; back >= 0; back -= 4) {
        level = Math.max(0, level - Math.round(item.perDay * 4 * (0.7 + rand() * 0.6) * (1 - si * 0.3)));
        if (back % 28 === 0) level += Math.round(item.level * 1.2);
        out.push({ date: day(back), site_id: site.id, commodity: item.commodity, level });
      }
      return out;
    }),
  );
  const kinds = ['received', 'transfer_out', 'transfer_in', 'expired_damaged', 'count_correction', 'lost'];
  const movements = Array.from({ length: 14 }, (_, i) => {
    const site = sites[i % sites.length];
    const item = STOCK_ITEMS[i % STOCK_ITEMS.length];
    const kind = kinds[i % kinds.length];
    return {
      id: `mv-${i + 1}`,
      site_id: site.id,
      commodity: item.commodity,
      quantity: kind === 'received' ? 1000 : kind === 'count_correction' ? -12 : 40 + i * 5,
      kind,
      occurred_at: new Date(nowMs - (i * 2 + 1) * DAY - i * 3_600_000).toISOString(),
    };
  });
  return { levels, movements, history };
}

/** The demo organisation: the server's built-in schemes (as core defines them), clients registered. */
function demoOrganisation(): Organisation {
  const scheme = (name: string, parts: UicScheme['components']): UicScheme => ({ name, components: parts, script: 'latin' });
  const central = scheme('central_asia', [
    { kind: 'letters', question: 'mother_first_name', count: 2 },
    { kind: 'letters', question: 'father_first_name', count: 2 },
    { kind: 'sex_digit', question: 'sex' },
    { kind: 'birth_year', question: 'birth_year', digits: 2 },
  ]);
  const surname = scheme('surname_day_year', [
    { kind: 'letters', question: 'surname', count: 3 },
    { kind: 'sex_digit', question: 'sex' },
    { kind: 'birth_day', question: 'birth_day' },
    { kind: 'birth_year', question: 'birth_year', digits: 2 },
  ]);
  return { name: 'Demo harm reduction programme', default_language: 'en', uic_scheme: central, scheme_changeable: false, built_in_schemes: [central, surname] };
}

/** The catalogue and kits the real server's tablet fixtures recorded, as the admin page lists them. */
function demoCatalogue(): Catalogue {
  const commodities = recordedAnswer<Commodity[]>('commodities');
  const kits = recordedAnswer<KitTemplate[]>('kit_templates');
  return {
    commodities: commodities.map((commodity, i) => ({ id: `c-${i + 1}`, commodity: { ...commodity, site_thresholds: {} } })),
    kits: kits.map((kit, i) => ({ id: `k-${i + 1}`, kit })),
  };
}

function demoDevices(nowMs: number): Device[] {
  const base = {
    app_version: '0.3.1',
    enrolled_ms: nowMs - 120 * DAY,
    revoked_ms: null,
    clock_skew_ms: 1200,
    clamped_count: 0,
    token_expires_ms: nowMs + 80 * DAY,
    worker: null,
    manageable: true,
    unsent_ops: 0,
  };
  return [
    { ...base, id: 'dev_01J9Z6Q4W8R', name: 'Drop-in window tablet', sites: ['Drop-in centre'], last_seen_ms: nowMs - 12 * 60_000 },
    { ...base, id: 'dev_01J9Z7A2K3M', name: 'Van 2 tablet', sites: ['Street outreach team', 'Mobile van (north)'], last_seen_ms: nowMs - 3 * 3_600_000, clock_skew_ms: 11 * 60_000, clamped_count: 4 },
    { ...base, id: 'dev_01J9Z8C5T1P', name: 'Outreach bag 1', sites: ['Street outreach team'], last_seen_ms: nowMs - 11 * DAY, unsent_ops: 37, app_version: '0.2.9', token_expires_ms: nowMs + 9 * DAY },
    { ...base, id: 'dev_01J9Z9D7V4Q', name: 'Old tablet (lost)', sites: ['Drop-in centre'], last_seen_ms: nowMs - 45 * DAY, revoked_ms: nowMs - 40 * DAY, app_version: '0.2.4' },
  ];
}

function demoConflicts(nowMs: number): Conflict[] {
  return [
    {
      id: 1,
      collection: 'contacts',
      record_id: '0192f1c2-7d3e-7a10-9c55-3e1b2a4c5d6e',
      site_id: 'site-dropin',
      field: 'setting',
      winner: { value: 'window', device_id: 'dev_01J9Z6Q4W8R', at_ms: nowMs - 26 * 3_600_000 },
      loser: { value: 'fixed_site', device_id: 'dev_01J9Z7A2K3M', at_ms: nowMs - 27 * 3_600_000 },
      detected_ms: nowMs - 20 * 3_600_000,
      resolved_ms: null,
      resolution: null,
    },
    {
      id: 2,
      collection: 'clients',
      record_id: '0192f0aa-1b2c-7d3e-8f40-5a6b7c8d9e0f',
      site_id: 'site-street',
      field: 'birth_year',
      winner: { value: 1987, device_id: 'dev_01J9Z8C5T1P', at_ms: nowMs - 4 * DAY },
      loser: { value: 1978, device_id: 'dev_01J9Z7A2K3M', at_ms: nowMs - 4 * DAY - 600_000 },
      detected_ms: nowMs - 3 * DAY,
      resolved_ms: null,
      resolution: null,
    },
    {
      id: 3,
      collection: 'referrals',
      record_id: '0192ef10-2c3d-7e4f-9a50-6b7c8d9e0f1a',
      site_id: 'site-street',
      field: 'status',
      winner: { value: 'attended', device_id: 'dev_01J9Z8C5T1P', at_ms: nowMs - 9 * DAY },
      loser: { value: 'lost', device_id: 'dev_01J9Z6Q4W8R', at_ms: nowMs - 9 * DAY - 3_600_000 },
      detected_ms: nowMs - 8 * DAY,
      resolved_ms: nowMs - 7 * DAY,
      resolution: 'accepted',
    },
  ];
}

/** Entries as the server writes them; those of its command line have no address. */
function demoAudit(nowMs: number): AuditEntry[] {
  const rows: [actor: string, action: string, target: string, detail: string, address: string | null][] = [
    ['user:coordinator', 'export', 'contacts', 'csv, 2026-10-01 to 2026-10-31, 2 site(s), 412 rows', '10.0.0.12'],
    ['user:coordinator', 'export', 'indicators', 'csv, 2026-10-01 to 2026-10-31, 2 site(s), 23 rows, small-cell suppression OFF', '10.0.0.12'],
    ['user:admin', 'conflict.resolve', '3', 'accepted referrals.status', '10.0.0.31'],
    ['cli', 'device.revoke', 'dev_01J9Z9D7V4Q', '', null],
    ['user:coordinator', 'login', 'coordinator', 'coordinator', '10.0.0.12'],
  ];
  return rows.map(([actor, action, target, detail, address], i) => ({
    id: rows.length - i,
    at_ms: nowMs - i * 5 * 3_600_000,
    actor,
    action,
    target,
    detail,
    address,
  }));
}
