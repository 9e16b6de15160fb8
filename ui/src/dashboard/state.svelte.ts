/**
 * What every dashboard page shares: the signed-in user, the sites they may see, the report
 * filter, the current page and a clock for relative times. Components get it from Svelte
 * context (`useDashboard`), so tests can build one over the in-memory fake API.
 */
import { getContext, setContext } from 'svelte';
import { isoDate } from '../lib/logic/dates';
import { LANGUAGES, type Language } from '../lib/backend';
import { setLanguage } from '../i18n/index.svelte';
import {
  ApiError,
  canUseDashboard,
  toApiError,
  type Conflict,
  type ConflictAction,
  type ConflictStatus,
  type DashboardApi,
  type PreviewRequest,
  type DashboardSite,
  type SessionInfo,
  type User,
  type CodeForm,
  type Commodity,
  type KitTemplate,
  type SiteForm,
  type PasswordChange,
  type UserForm,
  type OrganisationForm,
  type ErasureRequest,
  type MergeRequest,
  type DismissRequest,
  type ConnectionForm,
  type Dhis2Format,
  type PackagesForm,
  type SendRequest,
} from './api';
import { matchingPreset, presetPeriod, wholeMonths, type Period, type Preset } from './logic/period';
import type { Filter } from './logic/query';
import { defaultFilter, formatRoute, parseRoute, type Page } from './logic/route';

export type Phase = 'starting' | 'signed_out' | 'signed_in';
/** Why the login page is shown: a message for the person. */
export type SignedOutReason = 'session_expired' | 'logged_out' | 'unreachable' | 'cookie_refused' | 'password_changed' | null;

const LANGUAGE_KEY = 'outpost.dashboard.language';

export class DashboardState {
  readonly api: DashboardApi;
  phase = $state<Phase>('starting');
  user = $state<User | null>(null);
  signedOutReason = $state<SignedOutReason>(null);
  sites = $state<DashboardSite[]>([]);
  sitesError = $state<ApiError | null>(null);
  page = $state<Page>('indicators');
  filter = $state<Filter>(defaultFilter(isoDate(new Date())));
  preset = $state<Preset>('this_month');
  /** The donor reports page's indicator set (null: the page picks its default). */
  donorSet = $state<string | null>(null);
  /** The donor reports' printable report is shown instead of the page (`#/donor-reports/print`). */
  printView = $state(false);
  /** Open the browser's print dialog once the printable report is shown (then it is cleared). */
  autoprint = false;
  nowMs = $state(Date.now());
  /** Open conflicts, for the badge in the navigation (null until known). */
  openConflicts = $state<number | null>(null);

  constructor(api: DashboardApi, options: { nowMs?: number } = {}) {
    this.api = signOutOn401(api, (error) => {
      // Logged out in another tab, expired, or the server forgot it: all mean "sign in again".
      if (this.phase === 'signed_in') this.signOutLocally('session_expired');
    });
    if (options.nowMs !== undefined) this.nowMs = options.nowMs;
    this.filter = defaultFilter(this.today());
  }

  /** Today's local date `YYYY-MM-DD`, from the clock the pages share. */
  today(): string {
    return isoDate(new Date(this.nowMs));
  }

  get isAdmin(): boolean {
    return this.user?.role === 'admin';
  }

  /** Restores a session from the cookie, or shows the login page. */
  async start(): Promise<void> {
    try {
      await this.signedIn(await this.api.me());
    } catch (e) {
      const error = toApiError(e);
      this.signOutLocally(error.code === 'network' ? 'unreachable' : error.code === 'session_expired' ? 'session_expired' : null);
    }
  }

  async signedIn(info: SessionInfo, options: { justLoggedIn?: boolean } = {}): Promise<void> {
    this.user = info.user;
    this.signedOutReason = null;
    // A temporary password is changed before anything else (the server refuses the rest).
    if (info.user.password_temporary) {
      this.phase = 'signed_in';
      return;
    }
    // The sites come first: pages ask for reports only with a filter the server accepts.
    if (canUseDashboard(info.user)) await Promise.all([this.loadSites(), this.countConflicts()]);
    if (options.justLoggedIn && this.sitesError?.status === 401) {
      // The login worked but the next request had no session: the browser refused the cookie
      // (it is `Secure`, so the page must come over HTTPS unless it is on localhost).
      this.signOutLocally('cookie_refused');
      return;
    }
    this.phase = 'signed_in';
  }

  async countConflicts(): Promise<void> {
    try {
      this.openConflicts = (await this.api.conflicts('open')).length;
    } catch {
      this.openConflicts = null; // the conflicts page shows the error if it persists
    }
  }

  async loadSites(): Promise<void> {
    try {
      this.sites = await this.api.sites();
      this.sitesError = null;
      // Sites the user may no longer see would make every request fail with 403.
      const known = new Set(this.sites.map((s) => s.id));
      if (this.filter.sites.some((s) => !known.has(s))) {
        this.filter = { ...this.filter, sites: this.filter.sites.filter((s) => known.has(s)) };
      }
    } catch (e) {
      this.sitesError = toApiError(e);
    }
  }

  /** The session is gone (expired, logged out elsewhere): back to the login page. */
  signOutLocally(reason: SignedOutReason): void {
    this.user = null;
    this.sites = [];
    this.openConflicts = null;
    this.phase = 'signed_out';
    this.signedOutReason = reason;
  }

  /** Replaces the user's password; every session of theirs ends, so they log in again. */
  async changePassword(current: string, next: string): Promise<void> {
    await this.api.changePassword({ current_password: current, new_password: next });
    this.signOutLocally('password_changed');
  }

  async logout(): Promise<void> {
    try {
      await this.api.logout();
    } catch {
      // The server may already have forgotten the session; the page forgets it too.
    }
    this.signOutLocally('logged_out');
  }

  siteName(id: string): string {
    return this.sites.find((s) => s.id === id)?.name ?? this.user?.sites.find((s) => s.id === id)?.name ?? id;
  }

  // Filter -----------------------------------------------------------------------------------

  choosePreset(preset: Exclude<Preset, 'custom'>): void {
    this.preset = preset;
    this.filter = { ...this.filter, ...presetPeriod(preset, this.today()) };
  }

  chooseCustom(period: Period): void {
    this.preset = 'custom';
    this.filter = { ...this.filter, from: period.from, to: period.to };
  }

  /** A period picked from a list (the donor reports page's months, quarters, half-years, years). */
  choosePeriod(period: Period): void {
    this.filter = { ...this.filter, from: period.from, to: period.to };
    this.preset = matchingPreset(this.filter, this.today());
  }

  chooseSites(sites: string[]): void {
    this.filter = { ...this.filter, sites: [...sites] };
  }

  chooseSuppress(suppress: boolean): void {
    // Hidden small numbers need whole months (the server refuses other periods then).
    const period = suppress ? wholeMonths(this.filter, this.today()) : this.filter;
    this.filter = { ...this.filter, from: period.from, to: period.to, suppress };
    this.preset = matchingPreset(this.filter, this.today());
  }

  // Address ----------------------------------------------------------------------------------

  /** Takes page and filter from a location hash (on load and when the person goes back). */
  applyHash(hash: string): void {
    const route = parseRoute(hash, this.today());
    this.page = route.page;
    this.filter = route.filter;
    this.preset = route.preset;
    // An address without a set (another page, an old bookmark) keeps the one chosen last.
    if (route.set) this.donorSet = route.set;
    this.printView = route.print === true;
    this.autoprint = route.autoprint === true;
  }

  hash(): string {
    return formatRoute(this.page, this.filter, this.today(), { set: this.donorSet, print: this.printView });
  }

  /** The donor report as it is printed, for the set and filter shown; `print` opens the dialog. */
  openPrintView(options: { print?: boolean } = {}): void {
    this.page = 'donor-reports';
    this.autoprint = options.print ?? false;
    this.printView = true;
  }

  /** Back from the printable report to the donor reports page. */
  closePrintView(): void {
    this.autoprint = false;
    this.printView = false;
  }
}

/**
 * The API with one rule added: a 401 from any dashboard request means the session is gone
 * (expired, logged out in another tab, server restarted), so the page goes back to login.
 */
export function signOutOn401(api: DashboardApi, onSignedOut: (error: ApiError) => void): DashboardApi {
  const guard =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await call(...args);
      } catch (e) {
        const error = toApiError(e);
        if (error.status === 401) onSignedOut(error);
        throw error;
      }
    };
  return {
    me: () => api.me(),
    login: (request) => api.login(request),
    logout: () => api.logout(),
    sites: guard(() => api.sites()),
    indicators: guard((filter: Filter) => api.indicators(filter)),
    indicatorSets: guard(() => api.indicatorSets()),
    indicatorSet: guard((set: string, filter: Filter) => api.indicatorSet(set, filter)),
    trends: guard((filter: Filter) => api.trends(filter)),
    surveys: guard((filter: Filter) => api.surveys(filter)),
    stock: guard((sites: readonly string[]) => api.stock(sites)),
    devices: guard(() => api.devices()),
    conflicts: guard((status: ConflictStatus) => api.conflicts(status)),
    resolveConflict: guard((id: Conflict['id'], action: ConflictAction) => api.resolveConflict(id, action)),
    audit: guard(() => api.audit()),
    forms: guard(() => api.forms()),
    checkForm: guard((file: Blob, name: string) => api.checkForm(file, name)),
    publishForm: guard((file: Blob, name: string) => api.publishForm(file, name)),
    retireForm: guard((formId: string, version: number) => api.retireForm(formId, version)),
    previewForm: guard((request: PreviewRequest) => api.previewForm(request)),
    exportUrl: (kind, format, filter) => api.exportUrl(kind, format, filter),
    organisation: guard(() => api.organisation()),
    changeOrganisation: guard((form: OrganisationForm) => api.changeOrganisation(form)),
    eraseClient: guard((request: ErasureRequest) => api.eraseClient(request)),
    duplicates: guard(() => api.duplicates()),
    mergeClients: guard((request: MergeRequest) => api.mergeClients(request)),
    undoMerge: guard((id: string) => api.undoMerge(id)),
    dismissDuplicate: guard((request: DismissRequest) => api.dismissDuplicate(request)),
    adminSites: guard(() => api.adminSites()),
    addSite: guard((form: SiteForm) => api.addSite(form)),
    changeSite: guard((id: string, form: SiteForm) => api.changeSite(id, form)),
    catalogue: guard(() => api.catalogue()),
    addCommodity: guard((c: Commodity) => api.addCommodity(c)),
    changeCommodity: guard((id: string, c: Commodity) => api.changeCommodity(id, c)),
    setThreshold: guard((id: string, site: string, threshold: number | null) => api.setThreshold(id, site, threshold)),
    addKit: guard((kit: KitTemplate) => api.addKit(kit)),
    changeKit: guard((id: string, kit: KitTemplate) => api.changeKit(id, kit)),
    revokeDevice: guard((id: string) => api.revokeDevice(id)),
    renameDevice: guard((id: string, name: string) => api.renameDevice(id, name)),
    enrolmentCodes: guard(() => api.enrolmentCodes()),
    createEnrolmentCode: guard((form: CodeForm) => api.createEnrolmentCode(form)),
    cancelEnrolmentCode: guard((id: string) => api.cancelEnrolmentCode(id)),
    users: guard(() => api.users()),
    addUser: guard((form: UserForm) => api.addUser(form)),
    changeUser: guard((form: UserForm) => api.changeUser(form)),
    resetPassword: guard((username: string) => api.resetPassword(username)),
    setupTotp: guard((username: string) => api.setupTotp(username)),
    removeTotp: guard((username: string) => api.removeTotp(username)),
    changePassword: (change: PasswordChange) => api.changePassword(change),
    dhis2: guard(() => api.dhis2()),
    setDhis2Connection: guard((form: ConnectionForm) => api.setDhis2Connection(form)),
    saveDhis2Mapping: guard((set: string, csv: string) => api.saveDhis2Mapping(set, csv)),
    dhis2Preview: guard((set: string, filter: Filter) => api.dhis2Preview(set, filter)),
    dhis2ExportUrl: (set: string, format: Dhis2Format, filter: Filter) => api.dhis2ExportUrl(set, format, filter),
    sendToDhis2: guard((set: string, request: SendRequest) => api.sendToDhis2(set, request)),
    packages: guard(() => api.packages()),
    savePackages: guard((form: PackagesForm) => api.savePackages(form)),
  };
}

// Language ------------------------------------------------------------------------------------

/** The language kept from last time, else the browser's first language we have, else English. */
export function initialLanguage(stored: string | null, browser: readonly string[]): Language {
  if (stored && (LANGUAGES as readonly string[]).includes(stored)) return stored as Language;
  for (const tag of browser) {
    const base = tag.toLowerCase().split('-')[0];
    // Serbian is offered in its Latin script, which every Serbian reader reads.
    if (base === 'sr') return 'sr-Latn';
    if ((LANGUAGES as readonly string[]).includes(base)) return base as Language;
  }
  return 'en';
}

export function chooseLanguage(language: Language): void {
  setLanguage(language);
  try {
    localStorage.setItem(LANGUAGE_KEY, language);
  } catch {
    // Storage can be switched off; the choice then lasts until the page is closed.
  }
}

export function storedLanguage(): string | null {
  try {
    return localStorage.getItem(LANGUAGE_KEY);
  } catch {
    return null;
  }
}

// Context -------------------------------------------------------------------------------------

const KEY = Symbol('outpost.dashboard');

export function provideDashboard(state: DashboardState): void {
  setContext(KEY, state);
}

export function useDashboard(): DashboardState {
  const state = getContext<DashboardState | undefined>(KEY);
  if (!state) throw new Error('no dashboard state in context');
  return state;
}

export function dashboardContext(state: DashboardState): Map<symbol, unknown> {
  return new Map<symbol, unknown>([[KEY, state]]);
}
