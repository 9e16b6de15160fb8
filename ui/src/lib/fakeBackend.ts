/**
 * An in-memory {@link Backend} for unit tests and for previewing the UI in a plain browser
 * (`npm run dev` outside Tauri). It follows the contract in `backend.ts` closely enough to
 * exercise every screen, including PIN back-off, wipe, and sync progress; it is not a model of
 * the Rust store.
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
  OpenReferral,
  OverdoseReportDraft,
  OverdoseSummary,
  ReferralStatus,
  RejectedChange,
  StockLevel,
  StockMovementDraft,
  Status,
  SurveyAnswer,
  SyncProgress,
  UicAnswers,
  UicQuestion,
} from './backend';
import {
  MAX_NALOXONE_DOSES,
  OVERDOSE_OUTCOMES,
  plainArgs,
  REFERRAL_STATUSES,
  REFERRAL_TARGETS,
  STOCK_KINDS,
} from './backend';
import { normaliseEnrolmentCode } from './logic/enrolment';
import { WIPE_AFTER_DEFAULT, wipeAfterRefusal } from './logic/wipe';

const CATALOGUE: [string, string, string, string, number, boolean][] = [
  ['syringe_1ml', 'Syringe 1 ml (insulin, fixed needle)', 'injecting', 'piece', 100, true],
  ['syringe_2ml', 'Syringe 2 ml', 'injecting', 'piece', 100, true],
  ['syringe_5ml', 'Syringe 5 ml', 'injecting', 'piece', 100, true],
  ['syringe_10ml', 'Syringe 10 ml', 'injecting', 'piece', 100, true],
  ['needle', 'Needle', 'injecting', 'piece', 100, true],
  ['alcohol_swab', 'Alcohol swab', 'injecting', 'piece', 200, false],
  ['sterile_water', 'Sterile water', 'injecting', 'ampoule', 50, false],
  ['filter', 'Filter', 'injecting', 'piece', 100, false],
  ['cooker', 'Cooker', 'injecting', 'piece', 100, false],
  ['citric_acid', 'Citric/ascorbic acid', 'injecting', 'sachet', 100, false],
  ['tourniquet', 'Tourniquet', 'injecting', 'piece', 50, false],
  ['condom_external', 'Condom (external)', 'sex', 'piece', 144, false],
  ['condom_internal', 'Condom (internal)', 'women', 'piece', 20, false],
  ['lubricant', 'Lubricant', 'sex', 'sachet', 100, false],
  ['naloxone_nasal', 'Naloxone (nasal)', 'naloxone', 'kit', 10, false],
  ['naloxone_injectable', 'Naloxone (injectable)', 'naloxone', 'kit', 10, false],
  ['foil', 'Foil', 'smoking', 'sheet', 100, false],
  ['smoking_pipe', 'Safer-smoking pipe', 'smoking', 'piece', 50, false],
  ['mouthpiece', 'Mouthpiece', 'smoking', 'piece', 100, false],
  ['snorting_kit', 'Snorting kit', 'sniffing', 'kit', 50, false],
  ['fentanyl_test_strip', 'Fentanyl test strip', 'testing', 'piece', 100, false],
  ['drug_test_strip', 'Drug-checking test strip (other)', 'testing', 'piece', 100, false],
  ['sharps_container', 'Sharps container', 'injecting', 'piece', 20, false],
  ['wound_care_kit', 'Wound-care kit', 'injecting', 'kit', 20, false],
  ['pregnancy_test', 'Pregnancy test', 'women', 'piece', 50, false],
  ['hygiene_kit', 'Hygiene kit', 'women', 'kit', 20, false],
  ['earplugs', 'Earplugs', 'nightlife', 'pair', 100, false],
  ['leaflet', 'Information leaflet', 'other', 'piece', 100, false],
];

export const DEFAULT_COMMODITIES: Commodity[] = CATALOGUE.map(([code, name, category, unit, units_per_pack, ns]) => ({
  code,
  name,
  category,
  unit,
  units_per_pack,
  counts_as_needle_syringe: ns,
  low_stock_threshold: units_per_pack,
}));

const INJECTING = [
  { commodity: 'syringe_1ml', quantity: 10 },
  { commodity: 'alcohol_swab', quantity: 10 },
  { commodity: 'sterile_water', quantity: 2 },
  { commodity: 'condom_external', quantity: 2 },
];

export const DEFAULT_KITS: KitTemplate[] = [
  { code: 'injecting', name: 'Injecting kit', items: INJECTING },
  {
    code: 'smoking',
    name: 'Smoking kit',
    items: [
      { commodity: 'smoking_pipe', quantity: 1 },
      { commodity: 'mouthpiece', quantity: 2 },
      { commodity: 'foil', quantity: 5 },
      { commodity: 'condom_external', quantity: 2 },
    ],
  },
  {
    code: 'nightlife',
    name: 'Nightlife kit',
    items: [
      { commodity: 'condom_external', quantity: 3 },
      { commodity: 'lubricant', quantity: 2 },
      { commodity: 'earplugs', quantity: 1 },
      { commodity: 'leaflet', quantity: 1 },
      { commodity: 'drug_test_strip', quantity: 2 },
    ],
  },
  {
    code: 'women',
    name: "Women's kit",
    items: [
      ...INJECTING,
      { commodity: 'hygiene_kit', quantity: 1 },
      { commodity: 'pregnancy_test', quantity: 1 },
      { commodity: 'condom_internal', quantity: 2 },
    ],
  },
];

function fail(code: string, message: string, extra: Partial<BackendError> = {}): never {
  throw { code, message, ...extra } satisfies BackendError;
}

const CYRILLIC: Record<string, string> = {
  А: 'A', Б: 'B', В: 'V', Г: 'G', Ґ: 'G', Д: 'D', Е: 'E', Є: 'YE', Ё: 'YO', Ж: 'ZH', З: 'Z', И: 'I', І: 'I',
  Ї: 'YI', Й: 'Y', К: 'K', Л: 'L', М: 'M', Н: 'N', О: 'O', П: 'P', Р: 'R', С: 'S', Т: 'T', У: 'U', Ф: 'F',
  Х: 'KH', Ц: 'TS', Ч: 'CH', Ш: 'SH', Щ: 'SHCH', Ъ: '', Ы: 'Y', Ь: '', Э: 'E', Ю: 'YU', Я: 'YA',
};

function letters(answer: string | undefined, count: number): string {
  const latin = [...(answer ?? '').trim().toUpperCase().normalize('NFD').replace(/\p{M}/gu, '')]
    .map((c) => CYRILLIC[c] ?? c)
    .join('')
    .replace(/[^A-Z]/g, '');
  return latin.slice(0, count).padEnd(count, 'X');
}

/** One part of a code scheme, as `outpost_core::uic::UicComponent` serialises it. */
export type FakeUicComponent =
  | { kind: 'letters'; question: string; count: number }
  | { kind: 'sex_digit'; question: string }
  | { kind: 'birth_year'; question: string; digits: 2 | 4 }
  | { kind: 'birth_day'; question: string };

export interface FakeUicScheme {
  name: string;
  components: FakeUicComponent[];
}

/** The built-in schemes of `outpost_core::uic` (Latin script). */
export const UIC_SCHEMES = {
  central_asia: {
    name: 'central_asia',
    components: [
      { kind: 'letters', question: 'mother_first_name', count: 2 },
      { kind: 'letters', question: 'father_first_name', count: 2 },
      { kind: 'sex_digit', question: 'sex' },
      { kind: 'birth_year', question: 'birth_year', digits: 2 },
    ],
  },
  surname_day_year: {
    name: 'surname_day_year',
    components: [
      { kind: 'letters', question: 'surname', count: 3 },
      { kind: 'sex_digit', question: 'sex' },
      { kind: 'birth_day', question: 'birth_day' },
      { kind: 'birth_year', question: 'birth_year', digits: 2 },
    ],
  },
  gender_letters_year: {
    name: 'gender_letters_year',
    components: [
      { kind: 'sex_digit', question: 'sex' },
      { kind: 'letters', question: 'mother_first_name', count: 2 },
      { kind: 'letters', question: 'birth_place', count: 2 },
      { kind: 'birth_year', question: 'birth_year', digits: 4 },
    ],
  },
} as const satisfies Record<string, FakeUicScheme>;

export type BuiltInScheme = keyof typeof UIC_SCHEMES;

/** The questions `status` lists for a scheme (as `commands::uic_questions`). */
export function fakeUicQuestions(scheme: FakeUicScheme): UicQuestion[] {
  return scheme.components.map((c) => ({ question: c.question, kind: c.kind === 'sex_digit' ? 'sex' : c.kind }));
}

/** Builds a code as `UicScheme::build` does (Latin script): a missing answer becomes X. */
export function fakeBuildUic(answers: UicAnswers, scheme: FakeUicScheme = UIC_SCHEMES.central_asia): string {
  if (Object.values(answers).some((a) => [...a].length > 100)) fail('invalid_answer', 'an answer is too long');
  let code = '';
  for (const c of scheme.components) {
    const answer = answers[c.question]?.trim() || undefined;
    switch (c.kind) {
      case 'letters':
        code += letters(answer, c.count);
        break;
      case 'sex_digit':
        if (answer && !['1', '2', '3'].includes(answer)) {
          fail('invalid_answer', `the sex digit must be 1 (man), 2 (woman) or 3 (other), got ${JSON.stringify(answer)}`);
        }
        code += answer ?? 'X';
        break;
      case 'birth_year':
        if (answer && !(/^\d{4}$/.test(answer) && answer >= '1900' && answer <= '2100')) {
          fail('invalid_answer', `the year of birth must be four digits between 1900 and 2100, got ${JSON.stringify(answer)}`);
        }
        code += answer ? answer.slice(4 - c.digits) : 'X'.repeat(c.digits);
        break;
      case 'birth_day': {
        // As Rust's `u8::from_str`: digits with an optional '+'.
        const day = answer && /^\+?\d{1,3}$/.test(answer) ? Number(answer) : NaN;
        if (answer && !(day >= 1 && day <= 31)) fail('invalid_answer', `the day of birth must be between 1 and 31, got ${JSON.stringify(answer)}`);
        code += answer ? String(day).padStart(2, '0') : 'XX';
        break;
      }
    }
  }
  return code;
}

/** Why a new PIN is refused, as `lock::check_new_pin` (6–12 digits, not all one digit or a run). */
function newPinRefusal(pin: string): string | null {
  if (!/^\d{6,12}$/.test(pin)) return 'a new PIN is 6 to 12 digits';
  const steps = [...pin].slice(1).map((d, i) => Number(d) - Number(pin[i]));
  if ([0, 1, -1].some((step) => steps.every((s) => s === step))) {
    return 'this PIN is too easy to guess: avoid repeated digits and runs like 123456';
  }
  return null;
}

/**
 * How a stock movement changes the level: deliveries and transfers in add, transfers out and
 * write-offs subtract, a count correction carries its own sign.
 */
export function fakeLevelChange(m: StockMovementDraft): number {
  return ['transfer_out', 'expired_damaged', 'lost'].includes(m.kind) ? -m.quantity : m.quantity;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

interface StoredContact extends ContactDraft {
  id: string;
  occurred_at: string;
  lines: { commodity: string; quantity: number; reverses: boolean }[];
  /** The id of the overdose report record, while `overdose` holds one. */
  overdose_id?: string;
}

/** A referral record, as the store keeps it. */
export interface StoredReferral {
  id: string;
  contact_id: string | null;
  client_id: string | null;
  target: string;
  status: ReferralStatus;
  /** RFC 3339: when it was issued, then when its outcome was recorded. */
  status_at: string;
  site_id: string;
  deleted: boolean;
}

/** The argument Tauri names when it cannot deserialise a command's arguments. */
const ARGUMENT_OF: Record<string, string> = { save_contact: 'contact', update_overdose: 'overdose', set_wipe_after: 'attempts' };

/** What Tauri rejects with when arguments do not deserialise: a plain string, not `{code}`. */
function badArguments(command: string, detail: string): never {
  throw `invalid args \`${ARGUMENT_OF[command] ?? 'args'}\` for command \`${command}\`: ${detail}`;
}

const CONTACT_KEYS = [
  'client',
  'setting',
  'occurred_at',
  'services',
  'collecting_for',
  'note',
  'items',
  'sharps_returned',
  'referrals',
  'tests',
  'overdose',
];
const OVERDOSE_KEYS = ['naloxone_doses', 'emergency_called', 'stayed_with_person', 'outcome'];

/**
 * Checks the shape of an overdose report as Serde does for `OverdoseInput` (unknown or missing
 * fields, wrong types: a plain-string error). `path` is how the error names the report: nested
 * in the contact for `save_contact`, the whole argument for `update_overdose`.
 */
function checkOverdoseShape(overdose: unknown, command: string, path: string) {
  if (overdose === undefined || overdose === null) return;
  const at = (field: string) => (path ? `${path}.${field}` : field);
  const where = path ? `${path}: ` : '';
  if (typeof overdose !== 'object' || Array.isArray(overdose)) badArguments(command, `${where}expected struct OverdoseInput`);
  const od = overdose as Record<string, unknown>;
  const unknownKey = Object.keys(od).find((k) => !OVERDOSE_KEYS.includes(k));
  if (unknownKey) badArguments(command, `${where}unknown field \`${unknownKey}\``);
  const missing = OVERDOSE_KEYS.find((k) => !(k in od));
  if (missing) badArguments(command, `${where}missing field \`${missing}\``);
  if (!Number.isInteger(od.naloxone_doses) || (od.naloxone_doses as number) < 0 || (od.naloxone_doses as number) > 4_294_967_295) {
    badArguments(command, `${at('naloxone_doses')}: expected u32`);
  }
  for (const k of ['emergency_called', 'stayed_with_person']) {
    if (typeof od[k] !== 'boolean') badArguments(command, `${at(k)}: expected a boolean`);
  }
  if (typeof od.outcome !== 'string') badArguments(command, `${at('outcome')}: expected a string`);
}

/** Checks the values of a well-shaped overdose report as the record schema does (`invalid`). */
function checkOverdoseValues(od: OverdoseReportDraft | null | undefined) {
  if (od === undefined || od === null) return;
  if (od.naloxone_doses > MAX_NALOXONE_DOSES) fail('invalid', `naloxone_doses: must be between 0 and ${MAX_NALOXONE_DOSES}`);
  if (!(OVERDOSE_OUTCOMES as readonly string[]).includes(od.outcome)) fail('invalid', `outcome: unknown value ${JSON.stringify(od.outcome)}`);
}

/**
 * Checks a contact's overdose report as `save_contact` does: the shape is Serde's, the values
 * the record schema's (`invalid`).
 */
function checkOverdose(overdose: unknown) {
  checkOverdoseShape(overdose, 'save_contact', 'overdose');
  checkOverdoseValues(overdose as OverdoseReportDraft | null | undefined);
}

export interface FakeOptions {
  enrolled?: boolean;
  pinSet?: boolean;
  locked?: boolean;
  pin?: string;
  worker?: string | null;
  language?: Language;
  /** Seed a few clients, contacts and stock for a browser preview. */
  demo?: boolean;
  /** Delay of each sync step, to see the progress bar in a preview. */
  syncStepMs?: number;
  now?: () => number;
  /** Minutes after which a contact can no longer be edited (72 hours, as the app, unless told). */
  editWindowMinutes?: number;
  /** The organisation's client code scheme (central_asia unless told otherwise). */
  uicScheme?: BuiltInScheme | FakeUicScheme;
  /** Wrong PINs in a row before the wipe (`Status.wipe_after`; 10 unless told otherwise). */
  wipeAfter?: number;
}

export class FakeBackend implements Backend {
  calls: { command: string; args: unknown }[] = [];
  state: Status;
  pin: string | null;
  clients: ClientSummary[] = [];
  contacts: StoredContact[] = [];
  tallies: GroupTallyDraft[] = [];
  surveys: Record<string, SurveyAnswer>[] = [];
  movements: StockMovementDraft[] = [];
  referrals: StoredReferral[] = [];
  /** The organisation's client code scheme. */
  scheme: FakeUicScheme;
  /** Changes the server refused, oldest first (seed them with {@link addRejected}). */
  refused: RejectedChange[] = [];
  commodityList: Commodity[] = structuredClone(DEFAULT_COMMODITIES);
  kits: KitTemplate[] = structuredClone(DEFAULT_KITS);
  wrongAttempts = 0;
  blockedUntil = 0;
  /** The next call of a command fails with this error (then the entry is removed). */
  failures = new Map<string, BackendError>();
  private progressHandlers = new Set<(p: SyncProgress) => void>();
  private seq = 0;
  private readonly now: () => number;
  private readonly syncStepMs: number;
  private readonly editWindowMs: number;

  constructor(options: FakeOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.syncStepMs = options.syncStepMs ?? 0;
    this.editWindowMs = (options.editWindowMinutes ?? 72 * 60) * 60_000;
    const scheme = options.uicScheme ?? 'central_asia';
    this.scheme = structuredClone(typeof scheme === 'string' ? UIC_SCHEMES[scheme] : scheme) as FakeUicScheme;
    const enrolled = options.enrolled ?? false;
    this.pin = options.pin ?? (options.pinSet ?? enrolled ? '2580' : null);
    this.state = {
      enrolled,
      pin_set: options.pinSet ?? enrolled,
      locked: options.locked ?? false,
      wiped: false,
      worker: options.worker ?? (enrolled ? 'AK' : null),
      known_workers: enrolled ? [options.worker ?? 'AK'] : [],
      device_name: enrolled ? 'Window tablet' : null,
      org_name: enrolled ? 'Demo harm reduction programme' : null,
      site: enrolled ? { id: 'site-1', name: 'Drop-in centre' } : null,
      pending: 0,
      rejected: 0,
      last_sync_ms: enrolled ? this.now() - 20 * 60_000 : null,
      sync_state: 'idle',
      sync_error: null,
      language: options.language ?? 'en',
      idle_lock_minutes: 5,
      wipe_after: options.wipeAfter ?? WIPE_AFTER_DEFAULT,
      uic_questions: [],
    };
    if (options.demo) this.seedDemo();
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

  private id(prefix: string): string {
    this.seq += 1;
    return `${prefix}-${this.seq}`;
  }

  /** As `AppState::store`: commands that read or write records need the store open. */
  private requireUnlocked() {
    if (!this.state.enrolled || this.state.locked) fail('app_locked', 'the app is locked: enter the PIN');
  }

  private seedDemo() {
    const day = 86_400_000;
    const add = (uic: string, gender: string, birth_year: number) => {
      const c = { id: this.id('client'), uic, gender, birth_year };
      this.clients.push(c);
      return c.id;
    };
    const a = add('MAIV287', 'woman', 1987);
    const b = add('MAIV288', 'man', 1988);
    const c = add('OLSE192', 'man', 1992);
    add('NAPE295', 'woman', 1995);
    const contact = (client: string, ago: number, items: [string, number][], setting: ContactDraft['setting']) => {
      this.contacts.push({
        id: this.id('contact'),
        occurred_at: new Date(this.now() - ago).toISOString(),
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
    contact(c, 2 * 3_600_000, [['naloxone_nasal', 1]], 'window');
    Object.assign(this.contacts[this.contacts.length - 1], {
      overdose: { naloxone_doses: 2, emergency_called: true, stayed_with_person: true, outcome: 'survived' },
      overdose_id: this.id('overdose'),
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
    // As the Rust command: the scheme comes from the enrolment until the PIN is set, then from
    // the encrypted store, so it is listed only while that store is open.
    const readable = status.enrolled && (!status.pin_set || !status.locked);
    status.uic_questions = readable ? fakeUicQuestions(this.scheme) : [];
    return status;
  }

  async enroll(args: { serverUrl: string; code: string; deviceName: string }): Promise<void> {
    this.record('enroll', args);
    if (!normaliseEnrolmentCode(args.code).ok) fail('enrollment_code_invalid', 'the code is unknown, used or expired');
    Object.assign(this.state, {
      enrolled: true,
      pin_set: false,
      wiped: false,
      locked: true,
      device_name: args.deviceName,
      org_name: 'Demo harm reduction programme',
      site: { id: 'site-1', name: 'Drop-in centre' },
      last_sync_ms: this.now(),
    });
  }

  async setPin(args: { pin: string; worker: string }): Promise<void> {
    this.record('set_pin', args);
    const refusal = newPinRefusal(args.pin);
    if (refusal) fail('invalid', refusal);
    const worker = args.worker.trim();
    if (!worker || [...worker].length > 60) fail('invalid', "the worker's name or initials: 1 to 60 characters");
    this.pin = args.pin;
    this.state.pin_set = true;
    this.state.locked = false;
    this.setWorker(worker);
  }

  private setWorker(worker: string) {
    this.state.worker = worker;
    this.state.known_workers = [worker, ...this.state.known_workers.filter((w) => w !== worker)].slice(0, 8);
  }

  async unlock(args: { pin: string }): Promise<void> {
    this.record('unlock', args);
    const now = this.now();
    if (now < this.blockedUntil) {
      fail('pin_wait', `too many wrong PINs: wait ${Math.ceil((this.blockedUntil - now) / 1000)} seconds`, {
        retry_after_ms: this.blockedUntil - now,
      });
    }
    if (args.pin !== this.pin) {
      this.wrongAttempts += 1;
      // As `unlock` in commands.rs: the limit is `Status.wipe_after`, the wait `lock::backoff_ms`
      // (none for the first two, then 30 s doubling up to 15 minutes).
      if (this.wrongAttempts >= this.state.wipe_after) {
        this.wipe();
        fail('wiped', 'too many wrong PINs: the data on this device was erased');
      }
      const left = this.state.wipe_after - this.wrongAttempts;
      const message = `wrong PIN: ${left} attempts left before the local data is wiped`;
      // As `lock::backoff_ms`: at least 30 s once only two tries are left.
      if (this.wrongAttempts >= 3 || left <= 2) {
        const growing = this.wrongAttempts >= 3 ? Math.min(30_000 * 2 ** Math.min(this.wrongAttempts - 3, 5), 15 * 60_000) : 0;
        const wait = Math.max(growing, left <= 2 ? 30_000 : 0);
        this.blockedUntil = now + wait;
        fail('wrong_pin', message, { retry_after_ms: wait, attempts_left: left });
      }
      fail('wrong_pin', message, { attempts_left: left });
    }
    this.wrongAttempts = 0;
    this.state.locked = false;
  }

  private wipe() {
    const handlers = this.progressHandlers;
    Object.assign(
      this,
      new FakeBackend({ language: this.state.language, now: this.now, syncStepMs: this.syncStepMs, uicScheme: this.scheme }),
    );
    this.progressHandlers = handlers;
    this.state.wiped = true;
  }

  async lock(): Promise<void> {
    this.record('lock');
    this.state.locked = true;
  }

  async switchWorker(args: { worker: string }): Promise<void> {
    this.record('switch_worker', args);
    this.setWorker(args.worker);
  }

  async buildUic(args: { answers: UicAnswers }): Promise<{ uic: string }> {
    this.record('build_uic', args);
    this.requireUnlocked();
    return { uic: fakeBuildUic(args.answers, this.scheme) };
  }

  async findClients(args: { prefix: string }): Promise<ClientSummary[]> {
    this.record('find_clients', args);
    this.requireUnlocked();
    const prefix = args.prefix.toUpperCase();
    return structuredClone(this.clients.filter((c) => c.uic.startsWith(prefix)).sort((a, b) => a.uic.localeCompare(b.uic)).slice(0, 20));
  }

  async nearMatches(args: { uic: string }): Promise<ClientSummary[]> {
    this.record('near_matches', args);
    this.requireUnlocked();
    const year = args.uic.slice(-2);
    return structuredClone(this.clients.filter((c) => c.uic !== args.uic && c.uic.slice(-2) === year && editDistance(c.uic, args.uic) <= 1));
  }

  private summary(c: StoredContact): ContactSummary {
    const items: Record<string, number> = {};
    for (const line of c.lines) items[line.commodity] = (items[line.commodity] ?? 0) + (line.reverses ? -line.quantity : line.quantity);
    const clientId = c.client && 'id' in c.client ? c.client.id : null;
    const overdose: OverdoseSummary | null = c.overdose ? { id: c.overdose_id ?? `overdose-of-${c.id}`, ...c.overdose } : null;
    return {
      id: c.id,
      occurred_at: c.occurred_at,
      setting: c.setting,
      client_id: clientId,
      client_uic: this.clients.find((x) => x.id === clientId)?.uic ?? null,
      note: c.note ?? null,
      editable: this.now() - Date.parse(c.occurred_at) <= this.editWindowMs,
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
    return structuredClone(this.kits);
  }

  async commodities(): Promise<Commodity[]> {
    this.record('commodities');
    return structuredClone(this.commodityList);
  }

  async saveContact(args: { contact: ContactDraft }): Promise<{ contact_id: string; client_id: string | null }> {
    this.record('save_contact', args);
    this.requireUnlocked();
    const draft = plainArgs(args.contact);
    const unknownKey = Object.keys(draft).find((k) => !CONTACT_KEYS.includes(k));
    if (unknownKey) badArguments('save_contact', `unknown field \`${unknownKey}\``);
    checkOverdose(draft.overdose);
    for (const r of draft.referrals ?? []) {
      if (!(REFERRAL_TARGETS as readonly string[]).includes(r.target)) fail('invalid', `target: unknown value ${JSON.stringify(r.target)}`);
    }
    for (const item of draft.items) {
      if (!(item.quantity >= 1 && item.quantity <= 10_000)) fail('invalid', `quantity must be between 1 and 10000, got ${item.quantity}`);
    }
    let clientId: string | null = null;
    if (draft.client && 'new' in draft.client) {
      const c = { id: this.id('client'), uic: draft.client.new.uic, gender: draft.client.new.gender, birth_year: draft.client.new.birth_year ?? null };
      this.clients.push(c);
      clientId = c.id;
      draft.client = { id: c.id };
    } else if (draft.client) {
      clientId = draft.client.id;
    }
    const id = this.id('contact');
    const occurredAt = draft.occurred_at ?? new Date(this.now()).toISOString();
    this.contacts.push({
      ...draft,
      id,
      occurred_at: occurredAt,
      lines: draft.items.map((i) => ({ ...i, reverses: false })),
      ...(draft.overdose ? { overdose_id: this.id('overdose') } : {}),
    });
    for (const r of draft.referrals ?? []) {
      this.referrals.push({
        id: this.id('referral'),
        contact_id: id,
        client_id: clientId,
        target: r.target,
        status: 'issued',
        status_at: occurredAt,
        site_id: this.state.site?.id ?? 'site-1',
        deleted: false,
      });
    }
    this.state.pending += 1 + draft.items.length + (draft.referrals?.length ?? 0) + (draft.overdose ? 1 : 0);
    return { contact_id: id, client_id: clientId };
  }

  /**
   * Seeds an issued referral (for tests and previews), as if a contact `daysAgo` days ago had
   * issued it; `site` defaults to this tablet's.
   */
  addReferral(r: { client: string | null; target: string; daysAgo?: number; site?: string }): StoredReferral {
    const referral: StoredReferral = {
      id: this.id('referral'),
      contact_id: null,
      client_id: r.client,
      target: r.target,
      status: 'issued',
      status_at: new Date(this.now() - (r.daysAgo ?? 0) * 86_400_000).toISOString(),
      site_id: r.site ?? this.state.site?.id ?? 'site-1',
      deleted: false,
    };
    this.referrals.push(referral);
    return structuredClone(referral);
  }

  async openReferrals(args: { client?: string | null }): Promise<OpenReferral[]> {
    this.record('open_referrals', args);
    this.requireUnlocked();
    const site = this.state.site?.id;
    const client = args.client ?? null;
    return this.referrals
      .filter((r) => !r.deleted && r.site_id === site && r.status === 'issued' && (client === null || r.client_id === client))
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
    if (!(REFERRAL_STATUSES as readonly string[]).includes(args.status)) {
      fail('invalid', `${JSON.stringify(args.status)} is not a referral status (issued, attended, declined, lost)`);
    }
    this.requireUnlocked();
    const referral = this.referrals.find((r) => r.id === args.id);
    if (!referral || referral.deleted) fail('not_found', `referrals ${args.id} not found`);
    referral.status = args.status;
    referral.status_at = new Date(this.now()).toISOString();
    this.state.pending += 1;
  }

  /** As `commands::edit_window`: the contact must exist and still be in its edit window. */
  private contact(id: string): StoredContact {
    const c = this.contacts.find((x) => x.id === id);
    if (!c) fail('not_found', `contacts ${id} not found`);
    if (this.now() - Date.parse(c.occurred_at) > this.editWindowMs) {
      fail('locked', 'this contact is locked: it was recorded more than 72 hours ago');
    }
    return c;
  }

  async updateContact(args: { id: string; fields: ContactEdit }): Promise<void> {
    this.record('update_contact', args);
    this.requireUnlocked();
    const c = this.contact(args.id);
    if (args.fields.note !== undefined) c.note = args.fields.note || undefined;
    if (args.fields.setting !== undefined) c.setting = args.fields.setting;
    this.state.pending += 1;
  }

  async reverseLine(args: { contactId: string; commodity: string; quantity: number }): Promise<void> {
    this.record('reverse_line', args);
    this.requireUnlocked();
    const c = this.contact(args.contactId);
    const net = this.summary(c).items[args.commodity] ?? 0;
    if (args.quantity < 1 || args.quantity > net) fail('invalid', `can reverse between 1 and ${net}`);
    c.lines.push({ commodity: args.commodity, quantity: args.quantity, reverses: true });
    this.state.pending += 1;
  }

  /**
   * As `update_overdose`: the report's shape is checked first (Serde), then the store must be
   * open, the contact known and editable, and only then are the values checked (the record
   * schema, on write). `null` removes the report; removing none is not an error.
   */
  async updateOverdose(args: { contactId: string; overdose: OverdoseReportDraft | null }): Promise<void> {
    this.record('update_overdose', args);
    const overdose = plainArgs(args.overdose) ?? null;
    checkOverdoseShape(overdose, 'update_overdose', '');
    this.requireUnlocked();
    const c = this.contact(args.contactId);
    checkOverdoseValues(overdose);
    if (overdose) {
      if (!c.overdose) c.overdose_id = this.id('overdose');
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
    if (args.tally.people.length === 0 && args.tally.items.length === 0) fail('invalid', 'nothing to save');
    this.tallies.push(plainArgs(args.tally));
    this.state.pending += 1;
  }

  async saveSurvey(args: { answers: Record<string, SurveyAnswer> }): Promise<void> {
    this.record('save_survey', args);
    this.requireUnlocked();
    this.surveys.push(plainArgs(args.answers));
    this.state.pending += 1;
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
      return { commodity, received: r, distributed: d, level: r - d };
    });
  }

  async recordStockMovement(args: { movement: StockMovementDraft }): Promise<void> {
    this.record('record_stock_movement', args);
    this.requireUnlocked();
    const m = plainArgs(args.movement);
    if (!/^[a-z0-9_]{1,64}$/.test(m.commodity ?? '')) fail('invalid', 'commodity: a catalogue code is required');
    if (!(STOCK_KINDS as readonly string[]).includes(m.kind)) fail('invalid', `kind: unknown stock movement kind ${String(m.kind)}`);
    if (!Number.isInteger(m.quantity) || Math.abs(m.quantity) > 1_000_000) fail('invalid', 'quantity: a whole number up to 1000000');
    // The server checks only the range; the sign rules are the record's meaning, kept here so
    // that a screen sending a wrong sign fails in tests.
    if (m.kind === 'count_correction' ? m.quantity === 0 : m.quantity < 1) {
      fail('invalid', m.kind === 'count_correction' ? 'quantity: a correction cannot be zero' : 'quantity: must be positive; the kind says whether it goes out');
    }
    if (m.expiry_date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(m.expiry_date)) fail('invalid', 'expiry_date: not a date');
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

  async syncNow(): Promise<{ pushed: number; rejected: number; pulled: number }> {
    this.record('sync_now');
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
    this.state.language = args.language;
  }

  async setIdleLock(args: { minutes: number }): Promise<void> {
    this.record('set_idle_lock', args);
    this.state.idle_lock_minutes = args.minutes;
  }

  /**
   * As `set_wipe_after`: Tauri refuses anything but a u32 (a plain string); then 3 to 20
   * (`invalid`), checked before the lock; then only while unlocked (`app_locked`). A wipe brings
   * the limit back to 10.
   */
  async setWipeAfter(args: { attempts: number }): Promise<void> {
    this.record('set_wipe_after', args);
    const attempts: unknown = args?.attempts;
    if (attempts === undefined) badArguments('set_wipe_after', 'command set_wipe_after missing required key attempts');
    if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 0 || attempts > 4_294_967_295) {
      badArguments('set_wipe_after', `invalid type: ${JSON.stringify(attempts)}, expected u32`);
    }
    const refusal = wipeAfterRefusal(attempts);
    if (refusal) fail('invalid', refusal);
    this.requireUnlocked();
    this.state.wipe_after = attempts;
  }

  async reEnroll(args: { code: string }): Promise<void> {
    this.record('re_enroll', args);
    Object.assign(this.state, { sync_state: 'idle', sync_error: null });
  }

  async onSyncProgress(handler: (p: SyncProgress) => void): Promise<() => void> {
    this.progressHandlers.add(handler);
    return () => this.progressHandlers.delete(handler);
  }
}
