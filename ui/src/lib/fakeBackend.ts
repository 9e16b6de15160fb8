/**
 * An in-memory {@link Backend} for unit tests and for previewing the UI in a plain browser
 * (`npm run dev` outside Tauri). It decides nothing the real backend decides:
 *
 * - what the commands answer by their rules comes from the real commands' recorded answers
 *   (`generated/backend-fixtures.json`, read through `fixtures.ts`): the catalogue and kit
 *   templates, the client code builder, new-PIN refusals, the answers to wrong PINs in a row
 *   (tries left, waits, the wipe), the settings' refusals, the status of a new, enrolled,
 *   unlocked or locked tablet, and the code and message of every refusal;
 * - the limits and values it checks are the generated ones (`generated/backend.ts`);
 * - the rest is bookkeeping of what it was given: clients, contacts, referrals, test results,
 *   stock movements, tallies and surveys kept in memory, and the lookups over them;
 * - a form's check (what shows, what is wrong) is core's, never redone here: `check_form`
 *   answers only recorded calls, and a survey is saved when a recorded check of the same
 *   answers found nothing wrong;
 * - a call that nothing recorded answers is refused with `not_recorded`, naming the call, so a
 *   test never passes on an answer the real backend would not give: record the call in
 *   `src-tauri/tests/backend_fixtures.rs` instead.
 *
 * `fakeBackend.test.ts` replays the whole recorded day against it.
 */
import type {
  Backend,
  BackendError,
  ClientSummary,
  Commodity,
  ContactDraft,
  ContactEdit,
  ContactSummary,
  GroupTallyDraft,
  KitTemplate,
  Language,
  OpenLinkage,
  OpenReferral,
  OverdoseReportDraft,
  OverdoseSummary,
  ReferralStatus,
  RejectedChange,
  SavedContact,
  Status,
  StockCount,
  StockLevel,
  StockMovementDraft,
  FormAnswers,
  FormKind,
  FormState,
  PublishedForm,
  SyncProgress,
  SyncReport,
  UicAnswers,
  UicQuestion,
} from './backend';
import {
  CONTACT_EDIT_WINDOW_MS,
  IDLE_LOCK_MAX_MINUTES,
  IDLE_LOCK_MIN_MINUTES,
  isLanguage,
  MAX_NALOXONE_DOSES,
  OVERDOSE_OUTCOMES,
  plainArgs,
  REFERRAL_STATUSES,
  SETTINGS,
  WIPE_AFTER_MAX,
  WIPE_AFTER_MIN,
} from './backend';
import {
  aboutRecord,
  argumentRefusal,
  copy,
  editWindowRefusal,
  exchanges,
  fieldRefusal,
  isAnswered,
  isRefused,
  linkageRefusal,
  notRecorded,
  recorded,
  recordedAnswer,
  recordedStatus,
  refusal,
  sameArgs,
  wrongPinRuns,
  type Refusal,
} from './fixtures';
import { fakeAwaitsLinkage, fakeExpiring, fakeLevelChange, fakeLevelStatus, isNearMatch } from './fakeRules';
import { appLocked, blank, contactNotFound, notReactiveRefusal, pinRefusal, refusalCodeIs, refuse, workerRefusal } from './fakeRefusals';
import { rfc3339, type StoredContact, type StoredReferral, type StoredTestResult } from './fakeRecords';

export type { StoredReferral, StoredTestResult };

/** The catalogue and the kit templates the real commands answered after the first sync. */
export const RECORDED_COMMODITIES: readonly Commodity[] = recordedAnswer<Commodity[]>('commodities');
export const RECORDED_KITS: readonly KitTemplate[] = recordedAnswer<KitTemplate[]>('kit_templates');

/** The PIN the recorder set: the one new PIN the fake knows the backend accepts. */
export const RECORDED_PIN: string = exchanges('set_pin').find(isAnswered)!.args.pin as string;

const NEW_TABLET = recordedStatus<Status>('new');
/** What the demo server gave at enrolment (organisation, site, client code questions). */
const ENROLMENT = recordedStatus<Status>('enrolled');
const LOCKED = recordedStatus<Status>('locked');
const WRONG_PINS = wrongPinRuns();

/**
 * What `status` reads from the encrypted store: a locked tablet's status has none of it (its
 * values are then the recorded locked status').
 */
const STORE_FIELDS = ['device_name', 'org_name', 'site', 'pending', 'rejected', 'last_sync_ms', 'uic_questions'] as const;

/**
 * A client code scheme other than the demo server's (whose codes are recorded): the questions
 * `status` lists for it and the codes the real builder makes of the answers a test gives. It is
 * test data, written in the test that needs it, until the recorder can enrol with such a scheme.
 */
export interface FakeUicScheme {
  questions: UicQuestion[];
  codes: { answers: UicAnswers; uic: string }[];
}

export interface FakeOptions {
  enrolled?: boolean;
  pinSet?: boolean;
  locked?: boolean;
  /** The tablet's PIN (`2580`, set before the 6-digit rule, unless told). */
  pin?: string;
  worker?: string | null;
  language?: Language;
  /** Seed a few clients, contacts and stock for a browser preview. */
  demo?: boolean;
  /** Delay of each sync step, to see the progress bar in a preview. */
  syncStepMs?: number;
  now?: () => number;
  /** Another client code scheme than the demo server's (test data; see {@link FakeUicScheme}). */
  uicScheme?: FakeUicScheme;
  /** Wrong PINs in a row before the wipe (`Status.wipe_after`; the default limit unless told). */
  wipeAfter?: number;
}

export class FakeBackend implements Backend {
  calls: { command: string; args: unknown }[] = [];
  state: Status;
  pin: string | null;
  /** Every worker who used the tablet, in the order they were added. */
  workers: string[] = [];
  clients: ClientSummary[] = [];
  contacts: StoredContact[] = [];
  tallies: GroupTallyDraft[] = [];
  surveys: { formId: string; version: number; answers: FormAnswers }[] = [];
  movements: StockMovementDraft[] = [];
  referrals: StoredReferral[] = [];
  testResults: StoredTestResult[] = [];
  /** The organisation's client code scheme, when it is not the demo server's. */
  scheme: FakeUicScheme | null;
  /** Changes the server refused, oldest first (seed them with {@link addRejected}). */
  refused: RejectedChange[] = [];
  commodityList: Commodity[] = structuredClone(RECORDED_COMMODITIES) as Commodity[];
  kits: KitTemplate[] = structuredClone(RECORDED_KITS) as KitTemplate[];
  /** Wrong PINs in a row so far. */
  wrongAttempts = 0;
  /** No PIN is checked before this time; `waiting` is the answer meanwhile. */
  waitUntil = 0;
  private waiting: BackendError | null = null;
  /** The next call of a command fails with this error (then the entry is removed). */
  failures = new Map<string, BackendError>();
  private progressHandlers = new Set<(p: SyncProgress) => void>();
  private seq = 0;
  private readonly now: () => number;
  private readonly syncStepMs: number;

  constructor(options: FakeOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.syncStepMs = options.syncStepMs ?? 0;
    this.scheme = options.uicScheme ? structuredClone(options.uicScheme) : null;
    const enrolled = options.enrolled ?? false;
    const pinSet = options.pinSet ?? enrolled;
    this.pin = options.pin ?? (pinSet ? '2580' : null);
    this.state = structuredClone(NEW_TABLET);
    if (options.language) this.state.language = options.language;
    if (options.wipeAfter !== undefined) this.state.wipe_after = options.wipeAfter;
    if (enrolled) {
      this.takeEnrolment(ENROLMENT.device_name ?? '');
      Object.assign(this.state, { pin_set: pinSet, locked: options.locked ?? !pinSet });
      if (pinSet) {
        this.setWorker(options.worker ?? 'AK');
        this.state.last_sync_ms = this.now() - 20 * 60_000;
      }
    }
    if (options.demo) this.seedDemo();
  }

  /** What `enroll` keeps of the demo server's answer. */
  private takeEnrolment(deviceName: string) {
    Object.assign(this.state, {
      enrolled: true,
      pin_set: false,
      locked: true,
      wiped: false,
      device_name: deviceName,
      org_name: ENROLMENT.org_name,
      site: structuredClone(ENROLMENT.site),
      uic_questions: this.scheme ? structuredClone(this.scheme.questions) : structuredClone(ENROLMENT.uic_questions),
      last_sync_ms: null,
    });
  }

  private record(command: string, args?: unknown) {
    this.calls.push({ command, args: plainArgs(args) });
    const failure = this.failures.get(command);
    if (failure) {
      this.failures.delete(command);
      throw failure;
    }
  }

  /** The arguments of every call of `command`, oldest first. */
  callsOf(command: string): unknown[] {
    return this.calls.filter((c) => c.command === command).map((c) => c.args);
  }

  private id(): string {
    this.seq += 1;
    return `0193fa4e-0000-7000-8000-${this.seq.toString(16).padStart(12, '0')}`;
  }

  /** As `AppState::store`: commands that read or write records need the store open. */
  private requireUnlocked() {
    if (!this.state.enrolled || !this.state.pin_set || this.state.locked) refuse(appLocked());
  }

  private get siteId(): string {
    return this.state.site?.id ?? ENROLMENT.site!.id;
  }

  private seedDemo() {
    const day = 86_400_000;
    const add = (uic: string, gender: string, birth_year: number, other_site: string | null = null) => {
      const c = { id: this.id(), uic, gender, birth_year, other_site };
      this.clients.push(c);
      return c.id;
    };
    const a = add('MAIV287', 'woman', 1987);
    const b = add('MAIV288', 'man', 1988);
    const c = add('OLSE192', 'man', 1992);
    add('NAPE295', 'woman', 1995);
    // Registered at another site, found through the organisation's client index.
    add('MAPE290', 'woman', 1990, 'Street outreach team');
    const contact = (client: string, ago: number, items: [string, number][], setting: ContactDraft['setting']) => {
      this.contacts.push({
        id: this.id(),
        occurred_at: rfc3339(this.now() - ago),
        recorded_ms: this.now() - ago,
        client: { id: client },
        setting,
        services: ['kit'],
        collecting_for: 0,
        items: items.map(([commodity, quantity]) => ({ commodity, quantity })),
        referrals: [],
        tests: [],
        lines: items.map(([commodity, quantity]) => ({ commodity, quantity, reverses: false })),
      });
    };
    contact(a, 3 * day, [['syringe_1ml', 10], ['alcohol_swab', 10], ['sterile_water', 2]], 'window');
    contact(a, 1 * day, [['syringe_1ml', 20], ['alcohol_swab', 20], ['sterile_water', 4], ['condom_external', 2]], 'window');
    contact(b, 2 * day, [['foil', 5], ['smoking_pipe', 1]], 'street_outreach');
    // A reactive HIV test at that contact whose person is not yet linked to care.
    const tested = this.contacts[this.contacts.length - 1];
    tested.services = ['kit', 'testing'];
    tested.tests = [{ test: 'hiv_rapid', result: 'reactive', linked_to_care: false }];
    this.testResults.push({
      id: this.id(),
      contact_id: tested.id,
      client_id: b,
      test: 'hiv_rapid',
      result: 'reactive',
      linked_to_care: false,
      linked_at: null,
      tested_at: tested.occurred_at,
      site_id: this.siteId,
    });
    contact(c, 2 * 3_600_000, [['naloxone_nasal', 1]], 'window');
    Object.assign(this.contacts[this.contacts.length - 1], {
      overdose: { naloxone_doses: 2, emergency_called: true, stayed_with_person: true, outcome: 'survived' },
      overdose_id: this.id(),
    });
    this.addReferral({ client: a, target: 'hcv_treatment', daysAgo: 12 });
    this.addReferral({ client: b, target: 'ost', daysAgo: 5 });
    this.addReferral({ client: a, target: 'art_hiv_care', daysAgo: 1 });
    for (const [commodity, quantity] of [['syringe_1ml', 500], ['alcohol_swab', 1000], ['sterile_water', 40], ['condom_external', 300], ['foil', 80]] as const) {
      this.movements.push({ commodity, quantity, kind: 'received' });
    }
    this.state.pending = 3;
  }

  async status(): Promise<Status> {
    this.record('status');
    const status = structuredClone(this.state);
    // As the Rust command: what the encrypted store holds is read only while it is open.
    if (status.pin_set && status.locked) {
      for (const field of STORE_FIELDS) Object.assign(status, { [field]: structuredClone(LOCKED[field]) });
    }
    return status;
  }

  async enroll(args: { serverUrl: string; code: string; deviceName: string }): Promise<void> {
    this.record('enroll', args);
    const refused = argumentRefusal('enroll', args);
    if (refused) refuse(refused);
    if (this.state.pin_set) refuse(notRecorded('enroll', args, 'an enrolled tablet'));
    // The fake server takes any code that was not recorded as refused.
    this.takeEnrolment(args.deviceName.trim());
  }

  async setPin(args: { pin: string; worker: string }): Promise<void> {
    this.record('set_pin', args);
    const refused = pinRefusal(args.pin);
    if (refused) refuse(refused);
    if (blank(args.worker)) refuse(workerRefusal('set_pin'));
    if (!this.state.enrolled) refuse(refusal('set_pin', 'not_enrolled'));
    if (this.state.pin_set) refuse(notRecorded('set_pin', args, 'a PIN is already set'));
    if (args.pin !== RECORDED_PIN) refuse(notRecorded('set_pin', { pin: args.pin }, `the recorded new PIN is ${RECORDED_PIN}`));
    this.pin = args.pin;
    this.wrongAttempts = 0;
    Object.assign(this.state, { pin_set: true, locked: false });
    this.setWorker(args.worker.trim());
  }

  private setWorker(worker: string) {
    if (!this.workers.includes(worker)) this.workers.push(worker);
    this.state.worker = worker;
    // As `LockFile::known_workers`: the current worker first, then the most recently added.
    this.state.known_workers = [worker, ...[...this.workers].reverse().filter((w) => w !== worker)];
  }

  /**
   * The right PIN opens the store. The n-th wrong PIN in a row is answered as the n-th was
   * recorded at the same limit (`wipe_after`), its wait kept: until it is over, every PIN is
   * answered as recorded during that wait (`pin_wait`), and not checked.
   */
  async unlock(args: { pin: string }): Promise<void> {
    this.record('unlock', args);
    if (!this.state.locked) return;
    if (!this.state.pin_set) refuse(notRecorded('unlock', args, 'a tablet without a PIN'));
    if (this.now() < this.waitUntil && this.waiting) refuse(this.waiting);
    if (args.pin === this.pin) {
      this.wrongAttempts = 0;
      this.waitUntil = 0;
      this.state.locked = false;
      return;
    }
    const limit = this.state.wipe_after;
    const step = WRONG_PINS.get(limit)?.[this.wrongAttempts];
    if (!step) refuse(notRecorded('unlock', args, `wrong PIN ${this.wrongAttempts + 1} in a row with wipe_after ${limit}`));
    this.wrongAttempts += 1;
    const answer = structuredClone(step.answer);
    if (answer.code === 'wiped') {
      this.wipe();
      refuse(answer);
    }
    if (answer.retry_after_ms) {
      this.waitUntil = this.now() + answer.retry_after_ms;
      this.waiting = step.whileWaiting ?? notRecorded('unlock', args, `a PIN during the wait after wrong PIN ${this.wrongAttempts}`);
    }
    refuse(answer);
  }

  private wipe() {
    const handlers = this.progressHandlers;
    const fresh = new FakeBackend({ language: this.state.language as Language, now: this.now, syncStepMs: this.syncStepMs });
    fresh.calls = this.calls;
    fresh.scheme = this.scheme;
    Object.assign(this, fresh);
    this.progressHandlers = handlers;
    this.state.wiped = true;
  }

  async lock(): Promise<void> {
    this.record('lock');
    if (this.state.pin_set) this.state.locked = true;
  }

  async switchWorker(args: { worker: string }): Promise<void> {
    this.record('switch_worker', args);
    if (blank(args.worker)) refuse(workerRefusal('switch_worker'));
    this.setWorker(args.worker.trim());
  }

  async buildUic(args: { answers: UicAnswers }): Promise<{ uic: string }> {
    this.record('build_uic', args);
    this.requireUnlocked();
    if (this.scheme) {
      const code = this.scheme.codes.find((c) => sameArgs(c.answers, args.answers));
      if (code) return { uic: code.uic };
      refuse(notRecorded('build_uic', args, "not among the test's codes for its scheme"));
    }
    const found = recorded('build_uic', { answers: args.answers });
    if (!found) refuse(notRecorded('build_uic', args));
    if (isRefused(found)) refuse(found.error);
    return structuredClone(found.ok) as { uic: string };
  }

  async findClients(args: { prefix: string }): Promise<ClientSummary[]> {
    this.record('find_clients', args);
    this.requireUnlocked();
    const prefix = args.prefix.trim().toUpperCase();
    return structuredClone(this.clients.filter((c) => c.uic.startsWith(prefix)).sort((a, b) => a.uic.localeCompare(b.uic)).slice(0, 20));
  }

  async nearMatches(args: { uic: string }): Promise<ClientSummary[]> {
    this.record('near_matches', args);
    this.requireUnlocked();
    return structuredClone(this.clients.filter((c) => isNearMatch(args.uic, c.uic)));
  }

  private editable(c: StoredContact): boolean {
    return this.now() - c.recorded_ms <= CONTACT_EDIT_WINDOW_MS;
  }

  private summary(c: StoredContact): ContactSummary {
    const items: Record<string, number> = {};
    for (const line of c.lines) items[line.commodity] = (items[line.commodity] ?? 0) + (line.reverses ? -line.quantity : line.quantity);
    const clientId = c.client && 'id' in c.client ? c.client.id : null;
    const overdose: OverdoseSummary | null = c.overdose ? { id: (c.overdose_id ??= this.id()), ...c.overdose } : null;
    return {
      id: c.id,
      occurred_at: c.occurred_at,
      setting: c.setting,
      client_id: clientId,
      client_uic: this.clients.find((x) => x.id === clientId)?.uic ?? null,
      note: c.note ?? null,
      editable: this.editable(c),
      items,
      overdose: structuredClone(overdose),
    };
  }

  private newestFirst(list: StoredContact[]): StoredContact[] {
    return [...list].sort((a, b) => b.occurred_at.localeCompare(a.occurred_at));
  }

  async clientHistory(args: { clientId: string; limit: number }): Promise<ContactSummary[]> {
    this.record('client_history', args);
    this.requireUnlocked();
    return this.newestFirst(this.contacts.filter((c) => c.client && 'id' in c.client && c.client.id === args.clientId))
      .slice(0, args.limit)
      .map((c) => this.summary(c));
  }

  async contactsBetween(args: { from: string; to: string; limit: number }): Promise<ContactSummary[]> {
    this.record('contacts_between', args);
    this.requireUnlocked();
    const from = Date.parse(args.from);
    const to = Date.parse(args.to);
    return this.newestFirst(this.contacts.filter((c) => Date.parse(c.occurred_at) >= from && Date.parse(c.occurred_at) < to))
      .slice(0, args.limit)
      .map((c) => this.summary(c));
  }

  async kitTemplates(): Promise<KitTemplate[]> {
    this.record('kit_templates');
    this.requireUnlocked();
    return structuredClone(this.kits);
  }

  async commodities(): Promise<Commodity[]> {
    this.record('commodities');
    this.requireUnlocked();
    return structuredClone(this.commodityList);
  }

  /** The values of an overdose report the record refuses, as the recorded refusals say. */
  private checkOverdose(overdose: OverdoseReportDraft | null | undefined) {
    if (!overdose) return;
    if (overdose.naloxone_doses > MAX_NALOXONE_DOSES) refuse(fieldRefusal('naloxone_doses'));
    if (!(OVERDOSE_OUTCOMES as readonly string[]).includes(overdose.outcome)) refuse(fieldRefusal('outcome'));
  }

  async saveContact(args: { contact: ContactDraft }): Promise<SavedContact> {
    this.record('save_contact', args);
    this.requireUnlocked();
    const draft = plainArgs(args.contact);
    const refused = argumentRefusal('save_contact', { contact: draft });
    if (refused) refuse(refused);
    if (!(SETTINGS as readonly string[]).includes(draft.setting)) refuse(fieldRefusal('setting'));
    this.checkOverdose(draft.overdose);
    for (const q of draft.questions ?? []) {
      this.requireCheckedAnswers('save_contact', { formId: q.form_id, version: q.version, answers: q.answers as FormAnswers });
    }
    let clientId: string | null = null;
    if (draft.client && 'new' in draft.client) {
      const c = { id: this.id(), uic: draft.client.new.uic, gender: draft.client.new.gender, birth_year: draft.client.new.birth_year ?? null, other_site: null };
      this.clients.push(c);
      clientId = c.id;
      draft.client = { id: c.id };
    } else if (draft.client) {
      clientId = draft.client.id;
    }
    const id = this.id();
    const occurredAt = draft.occurred_at ?? rfc3339(this.now());
    this.contacts.push({
      ...draft,
      id,
      occurred_at: occurredAt,
      recorded_ms: this.now(),
      lines: draft.items.map((i) => ({ ...i, reverses: false })),
      ...(draft.overdose ? { overdose_id: this.id() } : {}),
    });
    for (const r of draft.referrals ?? []) {
      this.referrals.push({
        id: this.id(),
        contact_id: id,
        client_id: clientId,
        target: r.target,
        status: 'issued',
        status_at: occurredAt,
        site_id: this.siteId,
        deleted: false,
      });
    }
    // As the store: one test result record per test, dated the contact's time when linked then.
    for (const test of draft.tests ?? []) {
      this.testResults.push({
        id: this.id(),
        contact_id: id,
        client_id: clientId,
        test: test.test,
        result: test.result,
        linked_to_care: test.linked_to_care,
        linked_at: test.linked_to_care ? rfc3339(this.now()) : null,
        tested_at: occurredAt,
        site_id: this.siteId,
      });
    }
    this.state.pending +=
      1 + draft.items.length + (draft.referrals?.length ?? 0) + (draft.tests?.length ?? 0) + (draft.overdose ? 1 : 0);
    return { contact_id: id, client_id: clientId };
  }

  /**
   * Seeds an issued referral (for tests and previews), as if a contact `daysAgo` days ago had
   * issued it; `site` defaults to this tablet's.
   */
  addReferral(r: { client: string | null; target: string; daysAgo?: number; site?: string }): StoredReferral {
    const referral: StoredReferral = {
      id: this.id(),
      contact_id: null,
      client_id: r.client,
      target: r.target,
      status: 'issued',
      status_at: rfc3339(this.now() - (r.daysAgo ?? 0) * 86_400_000),
      site_id: r.site ?? this.siteId,
      deleted: false,
    };
    this.referrals.push(referral);
    return structuredClone(referral);
  }

  async openReferrals(args: { client?: string | null }): Promise<OpenReferral[]> {
    this.record('open_referrals', args);
    this.requireUnlocked();
    const client = args.client ?? null;
    return this.referrals
      .filter((r) => !r.deleted && r.site_id === this.siteId && r.status === 'issued' && (client === null || r.client_id === client))
      .sort((a, b) => a.status_at.localeCompare(b.status_at) || a.id.localeCompare(b.id))
      .slice(0, 200)
      .map((r) => ({
        id: r.id,
        target: r.target,
        issued_at: r.status_at,
        client_id: r.client_id,
        client_uic: this.clients.find((c) => c.id === r.client_id)?.uic ?? null,
      }));
  }

  async updateReferral(args: { id: string; status: ReferralStatus }): Promise<void> {
    this.record('update_referral', args);
    // In the Rust command's order: the status is checked before the store is opened.
    if (!(REFERRAL_STATUSES as readonly string[]).includes(args.status)) refuse(refusal('update_referral', 'invalid'));
    this.requireUnlocked();
    const referral = this.referrals.find((r) => r.id === args.id);
    if (!referral || referral.deleted) refuse(aboutRecord(refusal('update_referral', 'not_found'), args.id));
    referral.status = args.status;
    referral.status_at = rfc3339(this.now());
    this.state.pending += 1;
  }

  /**
   * Seeds a test result (for tests and previews), as if a contact `daysAgo` days ago had recorded
   * it: reactive and not linked to care unless told; `site` defaults to this tablet's.
   */
  addTestResult(r: { client: string | null; test: string; result?: string; linked?: boolean; daysAgo?: number; site?: string }): StoredTestResult {
    const at = rfc3339(this.now() - (r.daysAgo ?? 0) * 86_400_000);
    const test: StoredTestResult = {
      id: this.id(),
      contact_id: null,
      client_id: r.client,
      test: r.test,
      result: r.result ?? 'reactive',
      linked_to_care: r.linked ?? false,
      linked_at: r.linked ? at : null,
      tested_at: at,
      site_id: r.site ?? this.siteId,
    };
    this.testResults.push(test);
    return structuredClone(test);
  }

  /** As `open_linkages`: this site's reactive tests not yet linked to care, oldest first (200 at most). */
  async openLinkages(): Promise<OpenLinkage[]> {
    this.record('open_linkages');
    this.requireUnlocked();
    return this.testResults
      .filter((r) => r.site_id === this.siteId && fakeAwaitsLinkage(r.result) && !r.linked_to_care)
      .sort((a, b) => a.tested_at.localeCompare(b.tested_at) || a.id.localeCompare(b.id))
      .slice(0, 200)
      .map((r) => ({
        id: r.id,
        test: r.test,
        tested_at: r.tested_at,
        client_id: r.client_id,
        client_uic: this.clients.find((c) => c.id === r.client_id)?.uic ?? null,
      }));
  }

  /**
   * As `record_linkage`: the test must exist (`not_found`), be reactive and not linked already
   * (`invalid`, in that order); it is then linked, dated now.
   */
  async recordLinkage(args: { id: string }): Promise<void> {
    this.record('record_linkage', args);
    this.requireUnlocked();
    const test = this.testResults.find((r) => r.id === args.id);
    if (!test) refuse(aboutRecord(refusal('record_linkage', 'not_found'), args.id));
    if (!fakeAwaitsLinkage(test.result)) refuse(notReactiveRefusal());
    if (test.linked_to_care) refuse(linkageRefusal('already_linked') ?? refusal('record_linkage', 'invalid'));
    test.linked_to_care = true;
    test.linked_at = rfc3339(this.now());
    this.state.pending += 1;
  }

  /** As `DeviceStore::editable_contact`: the contact must exist and still be in its edit window. */
  private contact(command: string, id: string): StoredContact {
    const c = this.contacts.find((x) => x.id === id);
    if (!c) refuse(aboutRecord(contactNotFound(command), id));
    if (!this.editable(c)) refuse(editWindowRefusal(command));
    return c;
  }

  async updateContact(args: { id: string; fields: ContactEdit }): Promise<void> {
    this.record('update_contact', args);
    this.requireUnlocked();
    const c = this.contact('update_contact', args.id);
    if (args.fields.note !== undefined && args.fields.note !== null) c.note = args.fields.note || undefined;
    if (args.fields.setting !== undefined && args.fields.setting !== null) c.setting = args.fields.setting;
    this.state.pending += 1;
  }

  async reverseLine(args: { contactId: string; commodity: string; quantity: number }): Promise<void> {
    this.record('reverse_line', args);
    this.requireUnlocked();
    const c = this.contact('reverse_line', args.contactId);
    const net = this.summary(c).items[args.commodity] ?? 0;
    if (args.quantity < 1 || args.quantity > net) refuse(refusal('reverse_line', 'invalid'));
    c.lines.push({ commodity: args.commodity, quantity: args.quantity, reverses: true });
    this.state.pending += 1;
  }

  /**
   * As `update_overdose`: the store must be open, the contact known and editable, and only
   * then are the values checked (the record schema, on write). `null` removes the report;
   * removing none is not an error.
   */
  async updateOverdose(args: { contactId: string; overdose: OverdoseReportDraft | null }): Promise<void> {
    this.record('update_overdose', args);
    const overdose = plainArgs(args.overdose) ?? null;
    this.requireUnlocked();
    const c = this.contact('update_overdose', args.contactId);
    this.checkOverdose(overdose);
    if (overdose) {
      if (!c.overdose) c.overdose_id = this.id();
      c.overdose = overdose;
      this.state.pending += 1;
    } else if (c.overdose) {
      c.overdose = null;
      delete c.overdose_id;
      this.state.pending += 1;
    }
  }

  async saveGroupTally(args: { tally: GroupTallyDraft }): Promise<void> {
    this.record('save_group_tally', args);
    this.requireUnlocked();
    const refused = argumentRefusal('save_group_tally', args);
    if (refused) refuse(refused);
    this.tallies.push(plainArgs(args.tally));
    this.state.pending += 1;
  }

  async offeredForms(args: { kind: FormKind | null }): Promise<PublishedForm[]> {
    this.record('offered_forms', args);
    this.requireUnlocked();
    const found = recorded('offered_forms', args);
    if (!found || !isAnswered(found)) refuse(notRecorded('offered_forms', args));
    return copy<PublishedForm[]>(found.ok);
  }

  async checkForm(args: { formId: string; version: number; answers: FormAnswers; language: string }): Promise<FormState> {
    this.record('check_form', args);
    this.requireUnlocked();
    const found = recorded('check_form', args);
    if (!found) refuse(notRecorded('check_form', args, 'record this check in backend_fixtures.rs'));
    if (isRefused(found)) refuse(found.error);
    return copy<FormState>(found.ok);
  }

  async saveSurvey(args: { formId: string; version: number; answers: FormAnswers }): Promise<void> {
    this.record('save_survey', args);
    this.requireUnlocked();
    const refused = argumentRefusal('save_survey', args);
    if (refused) refuse(refused);
    this.requireCheckedAnswers('save_survey', args);
    this.surveys.push(plainArgs(args));
    this.state.pending += 1;
  }

  /**
   * Answers to a form are saved when core's check found nothing wrong with them: a recorded
   * `check_form` of the same form, version and answers (any language) says so; without one, the
   * fake cannot tell, and the call is not recorded.
   */
  private requireCheckedAnswers(command: string, args: { formId: string; version: number; answers: FormAnswers }) {
    const same = (e: { args: Record<string, unknown> }) =>
      e.args.formId === args.formId && e.args.version === args.version && sameArgs(e.args.answers, args.answers);
    const checked = exchanges('check_form').filter(same).find(isAnswered);
    if (!checked) refuse(notRecorded(command, args, 'record a check_form of these answers'));
    if ((checked.ok as FormState).problems.length > 0) refuse(refusal(command, 'invalid_answers'));
  }

  async stockLevels(): Promise<StockLevel[]> {
    this.record('stock_levels');
    this.requireUnlocked();
    // As `outpost_device::queries::stock_levels`: `received` is the net of every movement.
    const moved = new Map<string, number>();
    const distributed = new Map<string, number>();
    for (const m of this.movements) moved.set(m.commodity, (moved.get(m.commodity) ?? 0) + fakeLevelChange(m));
    for (const c of this.contacts) {
      for (const l of c.lines) distributed.set(l.commodity, (distributed.get(l.commodity) ?? 0) + (l.reverses ? -l.quantity : l.quantity));
    }
    const codes = [...new Set([...moved.keys(), ...distributed.keys()])].sort();
    return codes.map((commodity) => {
      const r = moved.get(commodity) ?? 0;
      const d = distributed.get(commodity) ?? 0;
      const threshold = RECORDED_COMMODITIES.find((c) => c.code === commodity)?.low_stock_threshold ?? null;
      const expiring = r - d > 0 ? fakeExpiring(this.movements, commodity, this.now()) : [];
      return { commodity, received: r, distributed: d, level: r - d, threshold, status: fakeLevelStatus(r - d, threshold), expiring };
    });
  }

  async recordStockCount(args: { counts: StockCount[] }): Promise<number> {
    this.record('record_stock_count', args);
    this.requireUnlocked();
    const counts = plainArgs(args.counts);
    const refused = argumentRefusal('record_stock_count', { counts });
    if (refused) refuse(refused);
    const levels = new Map((await this.stockLevels()).map((l) => [l.commodity, l.level]));
    let written = 0;
    for (const c of counts) {
      const change = c.counted - (levels.get(c.commodity) ?? 0);
      if (change === 0) continue;
      this.movements.push({ commodity: c.commodity, quantity: change, kind: 'count_correction', batch: null, expiry_date: null, grant_code: null });
      this.state.pending += 1;
      written += 1;
    }
    return written;
  }

  async recordStockMovement(args: { movement: StockMovementDraft }): Promise<void> {
    this.record('record_stock_movement', args);
    this.requireUnlocked();
    const m = plainArgs(args.movement);
    const refused = argumentRefusal('record_stock_movement', { movement: m });
    if (refused) refuse(refused);
    this.movements.push(m);
    this.state.pending += 1;
  }

  /**
   * Seeds a change the server refused (for tests and previews): the rest of the change gets
   * plain defaults, and the status counts it.
   */
  addRejected(change: Partial<RejectedChange> & Pick<RejectedChange, 'code'>): RejectedChange {
    const opSeq = Math.max(0, ...this.refused.map((r) => r.op_seq)) + 1;
    const full: RejectedChange = {
      op_seq: opSeq,
      collection: 'contacts',
      record_id: `01936a1e-0000-7000-8000-${String(opSeq).padStart(12, '0')}`,
      kind: 'update',
      at_ms: this.now(),
      message: '',
      summary: '',
      ...change,
    };
    this.refused.push(full);
    this.state.rejected = this.refused.length;
    return structuredClone(full);
  }

  async rejectedChanges(): Promise<RejectedChange[]> {
    this.record('rejected_changes');
    this.requireUnlocked();
    return structuredClone([...this.refused].sort((a, b) => b.op_seq - a.op_seq));
  }

  /** The fake server takes everything sent; the progress events come in a few steps. */
  async syncNow(): Promise<SyncReport> {
    this.record('sync_now');
    this.requireUnlocked();
    const pending = this.state.pending;
    this.state.sync_state = 'syncing';
    const step = () => new Promise((r) => setTimeout(r, this.syncStepMs));
    const emit = (p: SyncProgress) => this.progressHandlers.forEach((h) => h(p));
    const pushTotal = Math.max(1, pending);
    for (let done = 0; done <= pushTotal; done += Math.max(1, Math.ceil(pushTotal / 4))) {
      emit({ phase: 'push', done: Math.min(done, pushTotal), total: pushTotal });
      await step();
    }
    for (let done = 0; done <= 40; done += 10) {
      emit({ phase: 'pull', done, total: 40 });
      await step();
    }
    Object.assign(this.state, { pending: 0, sync_state: 'idle', sync_error: null, last_sync_ms: this.now() });
    return { pushed: pending, rejected: 0, pulled: 40 };
  }

  async setLanguage(args: { language: Language }): Promise<void> {
    this.record('set_language', args);
    if (!isLanguage(args.language)) refuse(refusal('set_language', 'invalid'));
    this.state.language = args.language;
  }

  async setIdleLock(args: { minutes: number }): Promise<void> {
    this.record('set_idle_lock', args);
    const refused = argumentRefusal('set_idle_lock', args);
    if (refused) refuse(refused);
    if (!Number.isInteger(args.minutes)) refuse(notRecorded('set_idle_lock', args));
    if (args.minutes < IDLE_LOCK_MIN_MINUTES || args.minutes > IDLE_LOCK_MAX_MINUTES) refuse(refusal('set_idle_lock', 'invalid'));
    this.state.idle_lock_minutes = args.minutes;
  }

  /**
   * As `set_wipe_after`: the range first (`invalid`), then only while unlocked (`app_locked`).
   * A value Tauri cannot read as a u32 is refused as recorded (a plain string).
   */
  async setWipeAfter(args: { attempts: number }): Promise<void> {
    this.record('set_wipe_after', args);
    const refused = argumentRefusal('set_wipe_after', args);
    if (refused) refuse(refused);
    if (!Number.isInteger(args.attempts) || args.attempts < 0) refuse(notRecorded('set_wipe_after', args));
    if (args.attempts < WIPE_AFTER_MIN || args.attempts > WIPE_AFTER_MAX) refuse(refusal('set_wipe_after', 'invalid'));
    if (this.state.locked) refuse(appLocked());
    this.state.wipe_after = args.attempts;
  }

  async reEnroll(args: { code: string }): Promise<void> {
    this.record('re_enroll', args);
    this.requireUnlocked();
    Object.assign(this.state, { sync_state: 'idle', sync_error: null });
  }

  async onSyncProgress(handler: (p: SyncProgress) => void): Promise<() => void> {
    this.progressHandlers.add(handler);
    return () => this.progressHandlers.delete(handler);
  }
}
