import { describe, expect, it } from 'vitest';
import type { CommandMethod, ContactDraft, ReferralStatus, StockMovementDraft } from './backend';
import { COMMANDS, CONTACT_EDIT_WINDOW_MS, toBackendError, WIPE_AFTER_DEFAULT } from './backend';
import {
  editWindowRefusal,
  EXCHANGES,
  exchanges,
  fieldRefusal,
  isAnswered,
  isRefused,
  refusal,
  refusalCode,
  wrongPinRuns,
  type Exchange,
} from './fixtures';
import { FakeBackend, RECORDED_PIN, type FakeUicScheme } from './fakeBackend';

const HOUR = 3_600_000;
/** The recorder's "now" (its times are replaced by this one). */
const RECORDED_NOW = Date.parse('2026-01-01T09:00:00Z');

const METHOD_OF = Object.fromEntries(Object.entries(COMMANDS).map(([method, command]) => [command, method])) as Record<string, CommandMethod>;

/** Calls `command` on the fake as the UI would, and says what it answered. */
async function call(fake: FakeBackend, command: string, args: unknown): Promise<{ ok: unknown } | { error: unknown }> {
  const method = fake[METHOD_OF[command]] as (args: unknown) => Promise<unknown>;
  try {
    return { ok: (await method.call(fake, args)) ?? null };
  } catch (error) {
    return { error };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The recorder's placeholders (`Normaliser` in src-tauri/tests/backend_fixtures.rs), for the fake's ids and times. */
class Placeholders {
  private ids = new Map<string, string>();

  value(v: unknown, key = ''): unknown {
    if (typeof v === 'string' && UUID.test(v)) {
      if (!this.ids.has(v)) this.ids.set(v, `00000000-0000-4000-8000-${String(this.ids.size + 1).padStart(12, '0')}`);
      return this.ids.get(v);
    }
    if (typeof v === 'number' && key.endsWith('_ms') && v > 1_000_000_000_000) return 1_767_225_600_000;
    if (typeof v === 'number' && key === 'retry_after_ms') return Math.ceil(v / 1000) * 1000;
    if (Array.isArray(v)) return v.map((x) => this.value(x, key));
    if (v && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
      return Object.fromEntries(entries.map(([k, x]) => [k, this.value(x, k)]));
    }
    return v;
  }

  /** The fake's id behind a placeholder; one the fake never gave stands for the recorder's made-up id. */
  raw(v: unknown): unknown {
    if (typeof v === 'string' && UUID.test(v)) {
      for (const [raw, placeholder] of this.ids) if (placeholder === v) return raw;
      return '00000000-0000-7000-8000-00000000dead';
    }
    if (Array.isArray(v)) return v.map((x) => this.raw(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.raw(x)]));
    return v;
  }
}

/** Whether a recorded listing shows a contact as no longer editable (the recorder's clock ran ahead). */
function listsLocked(e: Exchange): boolean {
  return (e.command === 'client_history' || e.command === 'contacts_between') && isAnswered(e) && JSON.stringify(e.ok).includes('"editable":false');
}

describe('the fake backend answers the recorded day as the real commands did', () => {
  it('gives every recorded answer, in order (sync_now aside: its counts are the server’s)', async () => {
    let now = RECORDED_NOW;
    let clockAhead = false;
    const fake = new FakeBackend({ now: () => now });
    const placeholders = new Placeholders();
    for (const [i, e] of EXCHANGES.entries()) {
      // The recorder stands in for time: it ends the wait after wrong PINs, and moves the
      // tablet's clock past the edit window before listing contacts as locked.
      if (e.command === 'unlock' && !(isRefused(e) && refusalCode(e.error) === 'pin_wait')) now = Math.max(now, fake.waitUntil);
      if (listsLocked(e) && !clockAhead) {
        now += CONTACT_EDIT_WINDOW_MS + HOUR;
        clockAhead = true;
      }
      const args = placeholders.raw(e.args);
      const where = `#${i} ${e.command} ${JSON.stringify(e.args)}`;
      expect(placeholders.value(args), where).toEqual(e.args);
      const answer = await call(fake, e.command, args);
      const normalised = placeholders.value(answer);
      if (e.command === 'sync_now') continue;
      expect(normalised, where).toEqual('ok' in e ? { ok: e.ok } : { error: e.error });
    }
  });
});

async function levelAfter(...movements: StockMovementDraft[]): Promise<number | undefined> {
  const backend = new FakeBackend({ enrolled: true });
  for (const movement of movements) await backend.recordStockMovement({ movement });
  return (await backend.stockLevels()).find((l) => l.commodity === 'foil')?.level;
}

const foil = (kind: StockMovementDraft['kind'], quantity: number): StockMovementDraft => ({ commodity: 'foil', kind, quantity });

describe('the fake backend keeps stock movements like the device store', () => {
  it('adds inflows, subtracts outflows and adds a correction with its sign', async () => {
    expect(await levelAfter(foil('received', 100))).toBe(100);
    expect(await levelAfter(foil('received', 100), foil('transfer_in', 20))).toBe(120);
    expect(await levelAfter(foil('received', 100), foil('transfer_out', 30))).toBe(70);
    expect(await levelAfter(foil('received', 100), foil('expired_damaged', 5))).toBe(95);
    expect(await levelAfter(foil('received', 100), foil('lost', 2))).toBe(98);
    expect(await levelAfter(foil('received', 100), foil('count_correction', -7))).toBe(93);
    expect(await levelAfter(foil('received', 100), foil('count_correction', 7))).toBe(107);
    expect(await levelAfter(foil('lost', 3))).toBe(-3);
  });

  it('refuses the movements the backend refused, as it did, and keeps nothing of them', async () => {
    const backend = new FakeBackend({ enrolled: true });
    const refused = exchanges('record_stock_movement').filter(isRefused);
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) {
      await expect(backend.recordStockMovement(e.args as { movement: StockMovementDraft })).rejects.toEqual(e.error);
    }
    expect(backend.movements).toEqual([]);
  });
});

describe('the fake backend sets PINs as the backend did', () => {
  it('refuses the weak PINs the backend refused, with its message', async () => {
    const weak = exchanges('set_pin').filter(isRefused).filter((e) => refusalCode(e.error) === 'invalid' && (e.args.worker as string).trim() !== '');
    expect(weak.length).toBeGreaterThan(3);
    for (const e of weak) {
      const backend = new FakeBackend({ enrolled: true, pinSet: false });
      await expect(backend.setPin({ pin: e.args.pin as string, worker: 'AK' }), e.args.pin as string).rejects.toEqual(e.error);
      expect(backend.state.pin_set).toBe(false);
    }
  });

  it('refuses any PIN outside the generated lengths as the backend refused a short one', async () => {
    const short = refusal('set_pin', 'invalid', (e) => (e.args.pin as string).length < 6);
    for (const pin of ['2580', '25804', '1234567890123', '25804a']) {
      const backend = new FakeBackend({ enrolled: true, pinSet: false });
      await expect(backend.setPin({ pin, worker: 'AK' }), pin).rejects.toEqual(short);
    }
  });

  it('takes the recorded PIN; a PIN the backend was not asked about is not_recorded; a legacy 4-digit PIN still unlocks', async () => {
    const backend = new FakeBackend({ enrolled: true, pinSet: false });
    await backend.setPin({ pin: RECORDED_PIN, worker: ' AK ' });
    expect(backend.state).toMatchObject({ pin_set: true, locked: false, worker: 'AK' });
    const other = new FakeBackend({ enrolled: true, pinSet: false });
    await expect(other.setPin({ pin: '369147', worker: 'AK' })).rejects.toMatchObject({ code: 'not_recorded' });
    const legacy = new FakeBackend({ enrolled: true, locked: true, pin: '2580' });
    await legacy.unlock({ pin: '2580' });
    expect(legacy.state.locked).toBe(false);
  });

  it('refuses an empty worker name, and a PIN before enrolment, as recorded', async () => {
    const backend = new FakeBackend({ enrolled: true, pinSet: false });
    await expect(backend.setPin({ pin: RECORDED_PIN, worker: '  ' })).rejects.toEqual(refusal('set_pin', 'invalid', (e) => (e.args.worker as string).trim() === ''));
    await expect(new FakeBackend().setPin({ pin: RECORDED_PIN, worker: 'AK' })).rejects.toEqual(refusal('set_pin', 'not_enrolled'));
  });
});

describe('the fake backend lists workers as the backend does', () => {
  it('puts the current worker first, then the most recently added, and forgets none', async () => {
    const backend = new FakeBackend({ enrolled: true, worker: 'W0' });
    for (let i = 1; i <= 10; i++) await backend.switchWorker({ worker: `W${i}` });
    await backend.switchWorker({ worker: 'W3' });
    expect((await backend.status()).known_workers).toEqual(['W3', 'W10', 'W9', 'W8', 'W7', 'W6', 'W5', 'W4', 'W2', 'W1', 'W0']);
  });
});

describe('the fake backend lists the client code questions like `status`', () => {
  it("lists the demo server's scheme once enrolled, except while the store is locked", async () => {
    expect((await new FakeBackend().status()).uic_questions).toEqual([]);
    expect((await new FakeBackend({ enrolled: true, locked: true }).status()).uic_questions).toEqual([]);
    const pending = await new FakeBackend({ enrolled: true, pinSet: false }).status();
    expect(pending.uic_questions.map((q) => `${q.question}:${q.kind}`)).toEqual([
      'mother_first_name:letters',
      'father_first_name:letters',
      'sex:sex',
      'birth_year:birth_year',
    ]);
  });

  it('lists a scheme a test gives, and keeps it after a wipe', async () => {
    const scheme: FakeUicScheme = { questions: [{ question: 'surname', kind: 'letters' }], codes: [] };
    const backend = new FakeBackend({ enrolled: true, locked: true, uicScheme: scheme, wipeAfter: 5 });
    backend.wrongAttempts = 4;
    await expect(backend.unlock({ pin: '000000' })).rejects.toMatchObject({ code: 'wiped' });
    await backend.enroll({ serverUrl: 'https://outpost.example.org', code: 'ABCD-EFGH-JK23', deviceName: 'Van 2' });
    expect((await backend.status()).uic_questions).toEqual(scheme.questions);
  });
});

describe('the fake backend builds codes only as the backend did', () => {
  it('answers every recorded answer set as recorded, refusals too', async () => {
    const backend = new FakeBackend({ enrolled: true });
    const built = exchanges('build_uic');
    expect(built.filter(isRefused).length).toBeGreaterThan(0);
    for (const e of built) {
      const answer = await backend.buildUic(e.args as { answers: Record<string, string> }).then(
        (ok) => ({ ok }),
        (error: unknown) => ({ error }),
      );
      expect(answer, JSON.stringify(e.args)).toEqual('ok' in e ? { ok: e.ok } : { error: e.error });
    }
  });

  it('says an answer set that was not recorded is not_recorded, instead of guessing', async () => {
    const backend = new FakeBackend({ enrolled: true });
    await expect(backend.buildUic({ answers: { mother_first_name: 'Zoe' } })).rejects.toMatchObject({ code: 'not_recorded' });
  });

  it("answers a test's scheme from the test's codes", async () => {
    const scheme: FakeUicScheme = { questions: [{ question: 'surname', kind: 'letters' }], codes: [{ answers: { surname: 'Li' }, uic: 'LIX' }] };
    const backend = new FakeBackend({ enrolled: true, uicScheme: scheme });
    expect(await backend.buildUic({ answers: { surname: 'Li' } })).toEqual({ uic: 'LIX' });
    await expect(backend.buildUic({ answers: { surname: 'Lo' } })).rejects.toMatchObject({ code: 'not_recorded' });
  });

  it('is refused while the app is locked', async () => {
    const backend = new FakeBackend({ enrolled: true, locked: true });
    await expect(backend.buildUic({ answers: { sex: '1' } })).rejects.toEqual(refusal('*', 'app_locked'));
  });
});

describe('the fake backend follows referrals up like `open_referrals` and `update_referral`', () => {
  async function withReferrals() {
    const backend = new FakeBackend({ enrolled: true });
    const { client_id } = await backend.saveContact({
      contact: {
        client: { new: { uic: 'MAIV287', gender: 'woman', key_groups: [] } },
        setting: 'window',
        occurred_at: new Date(Date.now() - 2 * 86_400_000).toISOString(),
        services: [],
        collecting_for: 0,
        items: [],
        referrals: [{ target: 'ost' }, { target: 'hcv_treatment' }],
        tests: [],
      },
    });
    const older = backend.addReferral({ client: 'someone-else', target: 'tb', daysAgo: 9 });
    backend.addReferral({ client: client_id, target: 'shelter', daysAgo: 20, site: 'site-2' });
    return { backend, client: client_id!, older };
  }

  it("lists the site's issued referrals oldest first, or one client's", async () => {
    const { backend, client, older } = await withReferrals();
    const all = await backend.openReferrals({});
    expect(all.map((r) => r.target)).toEqual(['tb', 'ost', 'hcv_treatment']);
    expect(all[0]).toEqual({ id: older.id, target: 'tb', issued_at: older.status_at, client_id: 'someone-else', client_uic: null });
    expect(all[1]).toMatchObject({ client_id: client, client_uic: 'MAIV287' });
    expect((await backend.openReferrals({ client })).map((r) => r.target)).toEqual(['ost', 'hcv_treatment']);
    expect(await backend.openReferrals({ client: null })).toEqual(all);
  });

  it('records an outcome, which closes the referral, and can set it back to issued', async () => {
    const { backend, client } = await withReferrals();
    const [ost] = await backend.openReferrals({ client });
    await backend.updateReferral({ id: ost.id, status: 'attended' });
    expect((await backend.openReferrals({ client })).map((r) => r.target)).toEqual(['hcv_treatment']);
    expect(backend.referrals.find((r) => r.id === ost.id)?.status).toBe('attended');
    await backend.updateReferral({ id: ost.id, status: 'issued' });
    expect((await backend.openReferrals({ client })).map((r) => r.target)).toContain('ost');
  });

  it('refuses an unknown status, an unknown or deleted referral, and a locked app, as recorded', async () => {
    const { backend, client } = await withReferrals();
    const [ost] = await backend.openReferrals({ client });
    await expect(backend.updateReferral({ id: ost.id, status: 'done' as ReferralStatus })).rejects.toMatchObject({ code: 'invalid' });
    const unknown = await backend.updateReferral({ id: 'referral-999', status: 'lost' }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'not_found', message: expect.stringContaining('referral-999') });
    backend.referrals.find((r) => r.id === ost.id)!.deleted = true;
    await expect(backend.updateReferral({ id: ost.id, status: 'lost' })).rejects.toMatchObject({ code: 'not_found' });
    backend.state.locked = true;
    await expect(backend.openReferrals({})).rejects.toMatchObject({ code: 'app_locked' });
    await expect(backend.updateReferral({ id: ost.id, status: 'lost' })).rejects.toMatchObject({ code: 'app_locked' });
    // As in Rust, the status is checked before the store is opened.
    await expect(backend.updateReferral({ id: ost.id, status: 'closed' as ReferralStatus })).rejects.toMatchObject({ code: 'invalid' });
  });
});

describe('the fake backend follows reactive tests up like `open_linkages` and `record_linkage`', () => {
  async function withTests() {
    let now = Date.now();
    const backend = new FakeBackend({ enrolled: true, now: () => now });
    const { client_id } = await backend.saveContact({
      contact: {
        client: { new: { uic: 'MAIV287', gender: 'woman', key_groups: [] } },
        setting: 'window',
        occurred_at: new Date(now - 2 * 86_400_000).toISOString(),
        services: ['testing'],
        collecting_for: 0,
        items: [],
        referrals: [],
        tests: [
          { test: 'hiv_rapid', result: 'non_reactive', linked_to_care: false },
          { test: 'hcv_rapid', result: 'reactive', linked_to_care: false },
          { test: 'syphilis', result: 'reactive', linked_to_care: true },
        ],
      },
    });
    const older = backend.addTestResult({ client: null, test: 'tb_screening', daysAgo: 9 });
    backend.addTestResult({ client: client_id, test: 'pregnancy', daysAgo: 20, site: 'site-2' });
    const invalid = backend.addTestResult({ client: client_id, test: 'hiv_rapid', result: 'invalid', daysAgo: 1 });
    return { backend, client: client_id!, older, invalid, later: (ms: number) => (now += ms) };
  }

  it("lists the site's reactive tests not yet linked, oldest first", async () => {
    const { backend, client, older } = await withTests();
    const open = await backend.openLinkages();
    expect(open.map((r) => r.test)).toEqual(['tb_screening', 'hcv_rapid']);
    expect(open[0]).toEqual({ id: older.id, test: 'tb_screening', tested_at: older.tested_at, client_id: null, client_uic: null });
    expect(open[1]).toMatchObject({ client_id: client, client_uic: 'MAIV287' });
    // Linked at the contact: dated then.
    expect(backend.testResults.find((r) => r.test === 'syphilis')).toMatchObject({ linked_to_care: true, linked_at: expect.any(String) });
  });

  it('records the linkage, dated now, which closes the test; a second time is refused as recorded', async () => {
    const { backend, later } = await withTests();
    const [, hcv] = await backend.openLinkages();
    const pending = backend.state.pending;
    later(3 * HOUR);
    await backend.recordLinkage({ id: hcv.id });
    expect((await backend.openLinkages()).map((r) => r.test)).toEqual(['tb_screening']);
    const stored = backend.testResults.find((r) => r.id === hcv.id)!;
    expect(stored.linked_to_care).toBe(true);
    expect(Date.parse(stored.linked_at!)).toBeGreaterThan(Date.parse(hcv.tested_at));
    expect(backend.state.pending).toBe(pending + 1);
    const again = await backend.recordLinkage({ id: hcv.id }).catch((e: unknown) => e);
    expect(again).toEqual(refusal('record_linkage', 'invalid'));
    expect(again).toMatchObject({ message: expect.stringContaining('linked to care already') });
  });

  it('refuses an unknown test, one that is not reactive, and a locked app', async () => {
    const { backend, invalid } = await withTests();
    const unknown = await backend.recordLinkage({ id: 'test-999' }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'not_found', message: expect.stringContaining('test-999') });
    const nonReactive = backend.testResults.find((r) => r.result === 'non_reactive')!;
    for (const id of [nonReactive.id, invalid.id]) {
      await expect(backend.recordLinkage({ id })).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining('reactive') });
    }
    expect(backend.testResults.filter((r) => r.linked_to_care).map((r) => r.test)).toEqual(['syphilis']);
    backend.state.locked = true;
    await expect(backend.openLinkages()).rejects.toEqual(refusal('*', 'app_locked'));
    await expect(backend.recordLinkage({ id: invalid.id })).rejects.toEqual(refusal('*', 'app_locked'));
  });

  it('seeds one open reactive test in the demo data', async () => {
    const open = await new FakeBackend({ enrolled: true, demo: true }).openLinkages();
    expect(open).toEqual([expect.objectContaining({ test: 'hiv_rapid', client_uic: 'MAIV288' })]);
  });
});

describe('the fake backend saves overdose reports like `save_contact`', () => {
  const contact = (overdose: unknown): ContactDraft =>
    ({
      client: null,
      setting: 'street_outreach',
      services: [],
      collecting_for: 0,
      items: [],
      referrals: [],
      tests: [],
      overdose,
    }) as ContactDraft;
  const good = { naloxone_doses: 2, emergency_called: true, stayed_with_person: false, outcome: 'survived' };

  it('keeps the report with its contact', async () => {
    const backend = new FakeBackend({ enrolled: true });
    const { contact_id } = await backend.saveContact({ contact: contact(good) });
    expect(backend.contacts.find((c) => c.id === contact_id)?.overdose).toEqual(good);
    await backend.saveContact({ contact: contact(null) });
    await backend.saveContact({ contact: contact(undefined) });
    expect(backend.contacts).toHaveLength(3);
  });

  it('refuses values out of the generated range or list, as the record refused them', async () => {
    const backend = new FakeBackend({ enrolled: true });
    await expect(backend.saveContact({ contact: contact({ ...good, naloxone_doses: 51 }) })).rejects.toEqual(fieldRefusal('naloxone_doses'));
    await expect(backend.saveContact({ contact: contact({ ...good, outcome: 'recovered' }) })).rejects.toEqual(fieldRefusal('outcome'));
    await expect(backend.saveContact({ contact: { ...contact(null), setting: 'nowhere' } })).rejects.toEqual(fieldRefusal('setting'));
    expect(backend.contacts).toEqual([]);
  });
});

describe('the fake backend corrects overdose reports like `update_overdose`', () => {
  const report = { naloxone_doses: 2, emergency_called: true, stayed_with_person: false, outcome: 'survived' } as const;

  async function withContacts() {
    let now = Date.now();
    const backend = new FakeBackend({ enrolled: true, now: () => now });
    const draft = (overdose?: typeof report): ContactDraft => ({
      client: { new: { uic: 'MAIV287', gender: 'woman', key_groups: [] } },
      setting: 'window',
      services: [],
      collecting_for: 0,
      items: [],
      referrals: [],
      tests: [],
      ...(overdose ? { overdose } : {}),
    });
    const withReport = await backend.saveContact({ contact: draft(report) });
    const without = await backend.saveContact({ contact: draft() });
    const day = () => ({ from: new Date(now - 100 * HOUR).toISOString(), to: new Date(now + HOUR).toISOString(), limit: 10 });
    const summary = async (id: string) => (await backend.contactsBetween(day())).find((c) => c.id === id)!;
    return { backend, withReport: withReport.contact_id, without: without.contact_id, summary, later: (ms: number) => (now += ms) };
  }

  it('shows a saved report in the history, and none for a contact without one', async () => {
    const { backend, withReport, without, summary } = await withContacts();
    const recorded = await summary(withReport);
    expect(recorded.overdose).toEqual({ id: expect.any(String), ...report });
    expect((await summary(without)).overdose).toBeNull();
    const client = backend.contacts[0].client as { id: string };
    const history = await backend.clientHistory({ clientId: client.id, limit: 5 });
    expect(history.find((c) => c.id === withReport)?.overdose).toEqual(recorded.overdose);
  });

  it('changes a report in place, adds one, and removes one', async () => {
    const { backend, withReport, without, summary } = await withContacts();
    const { id } = (await summary(withReport)).overdose!;
    await backend.updateOverdose({ contactId: withReport, overdose: { ...report, naloxone_doses: 3, outcome: 'unknown' } });
    expect((await summary(withReport)).overdose).toEqual({ ...report, id, naloxone_doses: 3, outcome: 'unknown' });
    await backend.updateOverdose({ contactId: without, overdose: { ...report, outcome: 'died' } });
    expect((await summary(without)).overdose).toMatchObject({ outcome: 'died' });
    expect((await summary(without)).overdose?.id).not.toBe(id);
    await backend.updateOverdose({ contactId: withReport, overdose: null });
    expect((await summary(withReport)).overdose).toBeNull();
    // Removing a report that is not there changes nothing and is not an error.
    const pending = backend.state.pending;
    await backend.updateOverdose({ contactId: withReport, overdose: null });
    expect(backend.state.pending).toBe(pending);
  });

  it('refuses values out of range with invalid, an unknown contact with not_found, as recorded', async () => {
    const { backend, withReport, summary } = await withContacts();
    const before = await summary(withReport);
    const refused = (overdose: unknown, contactId = withReport) =>
      backend.updateOverdose({ contactId, overdose: overdose as typeof report }).catch((e: unknown) => e);
    expect(await refused({ ...report, naloxone_doses: 51 })).toEqual(fieldRefusal('naloxone_doses'));
    expect(await refused({ ...report, outcome: 'recovered' })).toEqual(fieldRefusal('outcome'));
    expect(await refused(report, 'contact-999')).toMatchObject({ code: 'not_found', message: expect.stringContaining('contact-999') });
    expect(await refused(null, 'contact-999')).toMatchObject({ code: 'not_found' });
    expect(await summary(withReport)).toEqual(before);
  });

  it('refuses a contact recorded more than the edit window ago as recorded, and a locked app', async () => {
    const { backend, withReport, summary, later } = await withContacts();
    later(CONTACT_EDIT_WINDOW_MS - HOUR);
    expect((await summary(withReport)).editable).toBe(true);
    later(2 * HOUR);
    expect((await summary(withReport)).editable).toBe(false);
    const locked = editWindowRefusal('update_overdose');
    await expect(backend.updateOverdose({ contactId: withReport, overdose: { ...report, naloxone_doses: 4 } })).rejects.toEqual(locked);
    await expect(backend.updateOverdose({ contactId: withReport, overdose: null })).rejects.toEqual(locked);
    // As in Rust, the edit window is checked before the values (validated on write).
    await expect(backend.updateOverdose({ contactId: withReport, overdose: { ...report, naloxone_doses: 99 } })).rejects.toEqual(locked);
    expect((await summary(withReport)).overdose).toMatchObject(report);
    backend.state.locked = true;
    await expect(backend.updateOverdose({ contactId: withReport, overdose: null })).rejects.toMatchObject({ code: 'app_locked' });
    // update_contact and reverse_line share the same window.
    backend.state.locked = false;
    await expect(backend.updateContact({ id: withReport, fields: { note: 'x' } })).rejects.toEqual(editWindowRefusal('update_contact'));
    await expect(backend.updateContact({ id: 'contact-999', fields: { note: 'x' } })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('counts the edit window from when the contact was recorded, not from when it happened', async () => {
    const { backend, summary } = await withContacts();
    const { contact_id } = await backend.saveContact({
      contact: { client: null, setting: 'window', occurred_at: new Date(Date.now() - 30 * 86_400_000).toISOString(), services: [], collecting_for: 0, items: [], referrals: [], tests: [] },
    });
    const listed = (await backend.contactsBetween({ from: new Date(Date.now() - 31 * 86_400_000).toISOString(), to: new Date(Date.now() + HOUR).toISOString(), limit: 10 })).find(
      (c) => c.id === contact_id,
    );
    expect(listed?.editable).toBe(true);
    void summary;
  });
});

describe('the fake backend sets the wrong-PIN limit like `set_wipe_after`', () => {
  it('starts at the default and takes the generated range while unlocked', async () => {
    const backend = new FakeBackend({ enrolled: true });
    expect((await backend.status()).wipe_after).toBe(WIPE_AFTER_DEFAULT);
    for (const attempts of [3, 5, 7, 20]) {
      await backend.setWipeAfter({ attempts });
      expect((await backend.status()).wipe_after).toBe(attempts);
    }
  });

  it('refuses 2 and 21 with the recorded refusal, and keeps the limit', async () => {
    const backend = new FakeBackend({ enrolled: true });
    for (const attempts of [0, 2, 21, 1000]) {
      await expect(backend.setWipeAfter({ attempts }), String(attempts)).rejects.toEqual({
        code: 'invalid',
        message: 'the tablet is wiped after 3 to 20 wrong PINs',
      });
    }
    expect(backend.state.wipe_after).toBe(10);
  });

  it('refuses a value Tauri cannot read as it did (a plain string, internal to the UI)', async () => {
    const backend = new FakeBackend({ enrolled: true });
    const tauri = exchanges('set_wipe_after').find((e) => isRefused(e) && typeof e.error === 'string')!;
    const error = await backend.setWipeAfter(tauri.args as { attempts: number }).catch((e: unknown) => e);
    expect(typeof error).toBe('string');
    expect(error as string).toMatch(/^invalid args `attempts` for command `set_wipe_after`/);
    expect(toBackendError(error).code).toBe('internal');
    expect(backend.state.wipe_after).toBe(10);
  });

  it('refuses while locked with app_locked (a locked tablet cannot raise its own limit), the range checked first', async () => {
    const backend = new FakeBackend({ enrolled: true, locked: true });
    await expect(backend.setWipeAfter({ attempts: 20 })).rejects.toMatchObject({ code: 'app_locked' });
    await expect(backend.setWipeAfter({ attempts: 21 })).rejects.toMatchObject({ code: 'invalid' });
    await expect(new FakeBackend().setWipeAfter({ attempts: 5 })).rejects.toMatchObject({ code: 'app_locked' });
    expect(backend.state.wipe_after).toBe(10);
  });
});

describe('the fake backend answers wrong PINs as the backend did', () => {
  it('gives the recorded tries left and waits, answers pin_wait during a wait without checking, then wipes', async () => {
    let now = 0;
    const backend = new FakeBackend({ enrolled: true, locked: true, pin: '258046', wipeAfter: 5, now: () => now });
    const recorded = wrongPinRuns().get(5)!;
    expect(recorded.map((s) => s.answer.code)).toEqual(['wrong_pin', 'wrong_pin', 'wrong_pin', 'wrong_pin', 'wiped']);
    for (const step of recorded.slice(0, 4)) {
      await expect(backend.unlock({ pin: '111111' })).rejects.toEqual(step.answer);
      if (step.answer.retry_after_ms) {
        // While waiting, no PIN is checked (not even the right one), and it is not called wrong.
        await expect(backend.unlock({ pin: '258046' })).rejects.toEqual(step.whileWaiting);
        now += step.answer.retry_after_ms;
      }
    }
    await expect(backend.unlock({ pin: '111111' })).rejects.toEqual(recorded[4].answer);
    expect(await backend.status()).toMatchObject({ wiped: true, enrolled: false, wipe_after: WIPE_AFTER_DEFAULT });
  });

  it('says a wrong PIN the recorder did not reach at that limit is not_recorded', async () => {
    const backend = new FakeBackend({ enrolled: true, locked: true, pin: '258046', wipeAfter: 20 });
    await expect(backend.unlock({ pin: '111111' })).rejects.toMatchObject({ code: 'not_recorded' });
  });

  it('starts the count again after the right PIN', async () => {
    const backend = new FakeBackend({ enrolled: true, locked: true, pin: '258046' });
    const [first, second] = wrongPinRuns().get(WIPE_AFTER_DEFAULT)!;
    await expect(backend.unlock({ pin: '111111' })).rejects.toEqual(first.answer);
    await expect(backend.unlock({ pin: '111111' })).rejects.toEqual(second.answer);
    await backend.unlock({ pin: '258046' });
    await backend.lock();
    await expect(backend.unlock({ pin: '111111' })).rejects.toEqual(first.answer);
  });
});
