import { describe, expect, it } from 'vitest';
import type { ContactDraft, ReferralStatus, StockMovementDraft } from './backend';
import { toBackendError } from './backend';
import { FakeBackend, fakeBuildUic, UIC_SCHEMES, type BuiltInScheme, type FakeUicScheme } from './fakeBackend';

async function levelAfter(...movements: StockMovementDraft[]): Promise<number | undefined> {
  const backend = new FakeBackend({ enrolled: true });
  for (const movement of movements) await backend.recordStockMovement({ movement });
  return (await backend.stockLevels()).find((l) => l.commodity === 'foil')?.level;
}

const foil = (kind: StockMovementDraft['kind'], quantity: number): StockMovementDraft => ({ commodity: 'foil', kind, quantity });

describe('the fake backend applies stock movements like the device store', () => {
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

  it('refuses what the record does not allow', async () => {
    const backend = new FakeBackend({ enrolled: true });
    const refused = async (movement: StockMovementDraft) => {
      await expect(backend.recordStockMovement({ movement })).rejects.toMatchObject({ code: 'invalid' });
    };
    await refused({ commodity: '', kind: 'received', quantity: 5 });
    await refused(foil('received', 0));
    await refused(foil('lost', -4)); // an outflow keeps a positive quantity
    await refused(foil('transfer_out', 2.5));
    await refused(foil('count_correction', 0));
    await refused(foil('received', 1_000_001));
    await refused(foil('count_correction', -1_000_001));
    await refused({ commodity: 'foil', kind: 'stolen' as StockMovementDraft['kind'], quantity: 1 });
    expect(backend.movements).toEqual([]);
    expect((await backend.stockLevels()).find((l) => l.commodity === 'foil')).toBeUndefined();
  });
});

describe('the fake backend sets PINs like `lock::check_new_pin`', () => {
  it('refuses new PINs under 6 digits, all one digit or a run, with code invalid', async () => {
    for (const pin of ['2580', '25804', '111111', '123456', '987654', '0123456789', '1234567890123', '25804a']) {
      const backend = new FakeBackend({ enrolled: true, pinSet: false });
      await expect(backend.setPin({ pin, worker: 'AK' }), pin).rejects.toMatchObject({ code: 'invalid' });
      expect(backend.state.pin_set, pin).toBe(false);
    }
  });

  it('accepts 6 to 12 digits, and a legacy 4-digit PIN still unlocks', async () => {
    for (const pin of ['258046', '121212', '890123', '258046139027']) {
      const backend = new FakeBackend({ enrolled: true, pinSet: false });
      await backend.setPin({ pin, worker: ' AK ' });
      expect(backend.state).toMatchObject({ pin_set: true, locked: false, worker: 'AK' });
    }
    const legacy = new FakeBackend({ enrolled: true, locked: true, pin: '2580' });
    await legacy.unlock({ pin: '2580' });
    expect(legacy.state.locked).toBe(false);
  });

  it('refuses an empty worker name', async () => {
    const backend = new FakeBackend({ enrolled: true, pinSet: false });
    await expect(backend.setPin({ pin: '258046', worker: '  ' })).rejects.toMatchObject({ code: 'invalid' });
  });
});

describe('the fake backend lists the client code questions like `status`', () => {
  it('lists the scheme once enrolled, except while the store is locked', async () => {
    expect((await new FakeBackend().status()).uic_questions).toEqual([]);
    expect((await new FakeBackend({ enrolled: true, locked: true }).status()).uic_questions).toEqual([]);
    const pending = await new FakeBackend({ enrolled: true, pinSet: false, locked: true }).status();
    expect(pending.uic_questions.map((q) => q.question)).toEqual(['mother_first_name', 'father_first_name', 'sex', 'birth_year']);
    const kinds = (scheme: BuiltInScheme) =>
      new FakeBackend({ enrolled: true, uicScheme: scheme }).status().then((s) => s.uic_questions.map((q) => `${q.question}:${q.kind}`));
    expect(await kinds('central_asia')).toEqual(['mother_first_name:letters', 'father_first_name:letters', 'sex:sex', 'birth_year:birth_year']);
    expect(await kinds('surname_day_year')).toEqual(['surname:letters', 'sex:sex', 'birth_day:birth_day', 'birth_year:birth_year']);
    expect(await kinds('gender_letters_year')).toEqual(['sex:sex', 'mother_first_name:letters', 'birth_place:letters', 'birth_year:birth_year']);
  });

  it('keeps the scheme after a wipe', async () => {
    const backend = new FakeBackend({ enrolled: true, locked: true, uicScheme: 'surname_day_year' });
    backend.wrongAttempts = 9;
    await expect(backend.unlock({ pin: '000000' })).rejects.toMatchObject({ code: 'wiped' });
    expect(backend.scheme.name).toBe('surname_day_year');
  });
});

describe('the fake backend builds codes like `UicScheme::build`', () => {
  it('follows each built-in scheme, with X for a missing answer', () => {
    expect(fakeBuildUic({ mother_first_name: 'Мария', father_first_name: 'Ivan', sex: '2', birth_year: '1987' })).toBe('MAIV287');
    expect(fakeBuildUic({}, UIC_SCHEMES.central_asia)).toBe('XXXXXXX');
    expect(fakeBuildUic({ surname: 'Petrova', sex: '2', birth_day: '7', birth_year: '1990' }, UIC_SCHEMES.surname_day_year)).toBe('PET20790');
    expect(fakeBuildUic({ surname: 'Li' }, UIC_SCHEMES.surname_day_year)).toBe('LIXXXXXX');
    expect(fakeBuildUic({ sex: '1', mother_first_name: 'Olga', birth_place: 'Osh', birth_year: '1985' }, UIC_SCHEMES.gender_letters_year)).toBe(
      '1OLOS1985',
    );
  });

  it('refuses answers the scheme cannot use, with code invalid_answer', () => {
    const refused = (answers: Record<string, string>, scheme: FakeUicScheme = UIC_SCHEMES.surname_day_year) =>
      expect(() => fakeBuildUic(answers, scheme)).toThrow(expect.objectContaining({ code: 'invalid_answer' }));
    refused({ sex: '4' });
    refused({ birth_year: '87' });
    refused({ birth_year: '1850' });
    refused({ birth_day: '0' });
    refused({ birth_day: '32' });
    refused({ birth_day: 'seven' });
    refused({ surname: 'x'.repeat(101) });
  });

  it('is refused while the app is locked', async () => {
    const backend = new FakeBackend({ enrolled: true, locked: true });
    await expect(backend.buildUic({ answers: { sex: '1' } })).rejects.toMatchObject({ code: 'app_locked' });
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

  it('refuses an unknown status, an unknown or deleted referral, and a locked app', async () => {
    const { backend, client } = await withReferrals();
    const [ost] = await backend.openReferrals({ client });
    await expect(backend.updateReferral({ id: ost.id, status: 'done' as ReferralStatus })).rejects.toMatchObject({ code: 'invalid' });
    await expect(backend.updateReferral({ id: 'referral-999', status: 'lost' })).rejects.toMatchObject({ code: 'not_found' });
    backend.referrals.find((r) => r.id === ost.id)!.deleted = true;
    await expect(backend.updateReferral({ id: ost.id, status: 'lost' })).rejects.toMatchObject({ code: 'not_found' });
    backend.state.locked = true;
    await expect(backend.openReferrals({})).rejects.toMatchObject({ code: 'app_locked' });
    await expect(backend.updateReferral({ id: ost.id, status: 'lost' })).rejects.toMatchObject({ code: 'app_locked' });
    // As in Rust, the status is checked before the store is opened.
    await expect(backend.updateReferral({ id: ost.id, status: 'closed' as ReferralStatus })).rejects.toMatchObject({ code: 'invalid' });
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

  it('refuses values out of range with code invalid, and a wrong shape as Tauri does', async () => {
    const backend = new FakeBackend({ enrolled: true });
    const invalid = async (overdose: unknown) => {
      await expect(backend.saveContact({ contact: contact(overdose) })).rejects.toMatchObject({ code: 'invalid' });
    };
    const malformed = async (overdose: unknown) => {
      const error = await backend.saveContact({ contact: contact(overdose) }).catch((e: unknown) => e);
      expect(typeof error, JSON.stringify(overdose)).toBe('string');
      expect(toBackendError(error).code).toBe('internal');
    };
    await invalid({ ...good, naloxone_doses: 51 });
    await invalid({ ...good, outcome: 'recovered' });
    await malformed({ ...good, naloxone_doses: -1 });
    await malformed({ ...good, naloxone_doses: 1.5 });
    await malformed({ ...good, emergency_called: 'yes' });
    await malformed({ naloxone_doses: 1, emergency_called: true, outcome: 'died' });
    await malformed({ ...good, place: 'park' });
    await expect(backend.saveContact({ contact: { ...contact(good), extra: 1 } as ContactDraft })).rejects.toMatch(/unknown field/);
    expect(backend.contacts).toEqual([]);
  });
});

describe('the fake backend corrects overdose reports like `update_overdose`', () => {
  const report = { naloxone_doses: 2, emergency_called: true, stayed_with_person: false, outcome: 'survived' } as const;
  const HOUR = 3_600_000;

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

  it('refuses values out of range with invalid, an unknown contact with not_found, a wrong shape as Tauri does', async () => {
    const { backend, withReport, summary } = await withContacts();
    const before = await summary(withReport);
    const refused = (overdose: unknown, contactId = withReport) =>
      backend.updateOverdose({ contactId, overdose: overdose as typeof report }).catch((e: unknown) => e);
    expect(await refused({ ...report, naloxone_doses: 51 })).toMatchObject({ code: 'invalid', message: expect.stringMatching(/naloxone_doses/) });
    expect(await refused({ ...report, outcome: 'recovered' })).toMatchObject({ code: 'invalid' });
    expect(await refused(report, 'contact-999')).toMatchObject({ code: 'not_found' });
    expect(await refused(null, 'contact-999')).toMatchObject({ code: 'not_found' });
    for (const malformed of [
      { ...report, naloxone_doses: -1 },
      { ...report, naloxone_doses: 1.5 },
      { ...report, stayed_with_person: 'no' },
      { naloxone_doses: 1, emergency_called: true, outcome: 'died' },
      { ...report, place: 'park' },
    ]) {
      const error = await refused(malformed);
      expect(typeof error, JSON.stringify(malformed)).toBe('string');
      expect(error).toMatch(/for command `update_overdose`/);
      expect(toBackendError(error).code).toBe('internal');
    }
    expect(await summary(withReport)).toEqual(before);
  });

  it('refuses a contact past its 72-hour edit window, and a locked app', async () => {
    const { backend, withReport, summary, later } = await withContacts();
    later(71 * HOUR);
    expect((await summary(withReport)).editable).toBe(true);
    later(2 * HOUR);
    expect((await summary(withReport)).editable).toBe(false);
    const locked = { code: 'locked', message: 'this contact is locked: it was recorded more than 72 hours ago' };
    await expect(backend.updateOverdose({ contactId: withReport, overdose: { ...report, naloxone_doses: 4 } })).rejects.toEqual(locked);
    await expect(backend.updateOverdose({ contactId: withReport, overdose: null })).rejects.toEqual(locked);
    // As in Rust, the edit window is checked before the values (validated on write).
    await expect(backend.updateOverdose({ contactId: withReport, overdose: { ...report, naloxone_doses: 99 } })).rejects.toEqual(locked);
    expect((await summary(withReport)).overdose).toMatchObject(report);
    backend.state.locked = true;
    await expect(backend.updateOverdose({ contactId: withReport, overdose: null })).rejects.toMatchObject({ code: 'app_locked' });
    // update_contact and reverse_line share the same window.
    backend.state.locked = false;
    await expect(backend.updateContact({ id: withReport, fields: { note: 'x' } })).rejects.toEqual(locked);
    await expect(backend.updateContact({ id: 'contact-999', fields: { note: 'x' } })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('the fake backend sets the wrong-PIN limit like `set_wipe_after`', () => {
  it('starts at 10 and takes 3 to 20 while unlocked', async () => {
    const backend = new FakeBackend({ enrolled: true });
    expect((await backend.status()).wipe_after).toBe(10);
    for (const attempts of [3, 5, 7, 20]) {
      await backend.setWipeAfter({ attempts });
      expect((await backend.status()).wipe_after).toBe(attempts);
    }
  });

  it('refuses 2 and 21 with invalid and the backend message, and keeps the limit', async () => {
    const backend = new FakeBackend({ enrolled: true });
    for (const attempts of [0, 2, 21, 1000]) {
      await expect(backend.setWipeAfter({ attempts }), String(attempts)).rejects.toEqual({
        code: 'invalid',
        message: 'the tablet is wiped after 3 to 20 wrong PINs',
      });
    }
    expect(backend.state.wipe_after).toBe(10);
  });

  it('refuses a value that is not a u32 as Tauri does (a plain string)', async () => {
    const backend = new FakeBackend({ enrolled: true });
    for (const attempts of [4.5, -1, '5', null, undefined] as unknown[]) {
      const error = await backend.setWipeAfter({ attempts } as { attempts: number }).catch((e: unknown) => e);
      expect(typeof error, String(attempts)).toBe('string');
      expect(error as string).toMatch(/^invalid args `attempts` for command `set_wipe_after`/);
      expect(toBackendError(error).code).toBe('internal');
    }
    expect(backend.state.wipe_after).toBe(10);
  });

  it('refuses while locked with app_locked (a locked tablet cannot raise its own limit), the range checked first', async () => {
    const backend = new FakeBackend({ enrolled: true, locked: true });
    await expect(backend.setWipeAfter({ attempts: 20 })).rejects.toMatchObject({ code: 'app_locked' });
    await expect(backend.setWipeAfter({ attempts: 21 })).rejects.toMatchObject({ code: 'invalid' });
    await expect(new FakeBackend().setWipeAfter({ attempts: 5 })).rejects.toMatchObject({ code: 'app_locked' });
    expect(backend.state.wipe_after).toBe(10);
  });

  it('wipes after that many wrong PINs in a row, waits once two tries are left, and starts again at 10', async () => {
    let now = 0;
    const backend = new FakeBackend({ enrolled: true, pin: '258046', now: () => now });
    await backend.setWipeAfter({ attempts: 3 });
    await backend.lock();
    const wrong = () => backend.unlock({ pin: '111111' });
    await expect(wrong()).rejects.toEqual({
      code: 'wrong_pin',
      message: 'wrong PIN: 2 attempts left before the local data is wiped',
      attempts_left: 2,
      retry_after_ms: 30_000,
    });
    // While waiting, no PIN is checked (not even the right one), and it is not called wrong.
    await expect(backend.unlock({ pin: '258046' })).rejects.toEqual({
      code: 'pin_wait',
      message: 'too many wrong PINs: wait 30 seconds',
      retry_after_ms: 30_000,
    });
    now += 30_000;
    await expect(wrong()).rejects.toMatchObject({ code: 'wrong_pin', attempts_left: 1, retry_after_ms: 30_000 });
    now += 30_000;
    await expect(wrong()).rejects.toMatchObject({ code: 'wiped' });
    const status = await backend.status();
    expect(status).toMatchObject({ wiped: true, enrolled: false, wipe_after: 10 });
  });

  it('keeps more tries with a higher limit, the wait capped at 15 minutes as `lock::backoff_ms`', async () => {
    let now = 0;
    const backend = new FakeBackend({ enrolled: true, locked: true, pin: '258046', wipeAfter: 20, now: () => now });
    const waits: (number | undefined)[] = [];
    for (let i = 1; i <= 19; i++) {
      const error = (await backend.unlock({ pin: '111111' }).catch((e: unknown) => e)) as { code: string; retry_after_ms?: number };
      expect(error.code, `attempt ${i}`).toBe('wrong_pin');
      waits.push(error.retry_after_ms);
      now += 60 * 60_000;
    }
    expect(waits.slice(0, 9)).toEqual([undefined, undefined, 30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000]);
    expect(Math.max(...waits.map((w) => w ?? 0))).toBe(900_000);
    await expect(backend.unlock({ pin: '111111' })).rejects.toMatchObject({ code: 'wiped' });
  });

  it('resets the count after the right PIN', async () => {
    let now = 0;
    const backend = new FakeBackend({ enrolled: true, locked: true, pin: '258046', wipeAfter: 3, now: () => now });
    await expect(backend.unlock({ pin: '111111' })).rejects.toMatchObject({ code: 'wrong_pin' });
    now += 30_000;
    await expect(backend.unlock({ pin: '111111' })).rejects.toMatchObject({ code: 'wrong_pin' });
    now += 30_000;
    await backend.unlock({ pin: '258046' });
    await backend.lock();
    await expect(backend.unlock({ pin: '111111' })).rejects.toMatchObject({
      message: 'wrong PIN: 2 attempts left before the local data is wiped',
    });
  });
});
