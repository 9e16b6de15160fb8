// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import Referrals from './Referrals.svelte';
import Home from './Home.svelte';
import { fakeSession, renderWith } from '../test/render';
import { setLanguage } from '../i18n/index.svelte';

afterEach(() => setLanguage('en'));

const rows = () => screen.queryAllByRole('group', { name: /What happened with the referral/ });
const labels = () => rows().map((g) => g.getAttribute('aria-label'));

async function site() {
  const { backend, session } = await fakeSession();
  const id = (uic: string) => backend.clients.find((c) => c.uic === uic)!.id;
  // Besides the demo's three open referrals: one closed, one of another site, one anonymous.
  const closed = backend.addReferral({ client: id('NAPE295'), target: 'shelter', daysAgo: 30 });
  backend.referrals.find((r) => r.id === closed.id)!.status = 'attended';
  backend.addReferral({ client: id('NAPE295'), target: 'legal_aid', daysAgo: 40, site: 'site-2' });
  backend.addReferral({ client: null, target: 'tb', daysAgo: 3 });
  return { backend, session, id };
}

describe('referral follow-up', () => {
  it("is reached from the home screen", async () => {
    const { session } = await fakeSession();
    renderWith(Home, session);
    await fireEvent.click(screen.getByRole('button', { name: /^Referrals/ }));
    expect(session.screen).toBe('referrals');
  });

  it("lists the site's open referrals oldest first, with code, target and how long ago", async () => {
    const { backend, session } = await site();
    renderWith(Referrals, session);
    expect(await screen.findByText('Open referrals: 4')).toBeTruthy();
    expect(backend.callsOf('open_referrals')).toEqual([{ client: null }]);
    expect(labels()).toEqual([
      'MAIV287 — What happened with the referral: Hepatitis C treatment',
      'MAIV288 — What happened with the referral: Opioid substitution (OST)',
      'No client code — What happened with the referral: Tuberculosis',
      'MAIV287 — What happened with the referral: ART / HIV care',
    ]);
    expect(screen.getByText(/Issued 12 days ago/)).toBeTruthy();
    expect(screen.getByText(/Issued yesterday/)).toBeTruthy();
    expect(screen.queryByText('Shelter')).toBeNull();
    expect(screen.queryByText('Legal aid')).toBeNull();
  });

  it('translates the targets', async () => {
    const { session } = await site();
    setLanguage('uk');
    renderWith(Referrals, session);
    expect(await screen.findByText('Лікування гепатиту C')).toBeTruthy();
    expect(screen.getAllByRole('button', { name: 'Звернувся' })).toHaveLength(4);
  });

  it('records an outcome with one tap, and the row leaves the list', async () => {
    const { backend, session } = await site();
    renderWith(Referrals, session);
    await screen.findByText('Open referrals: 4');
    const pending = session.status!.pending;
    const ost = backend.referrals.find((r) => r.target === 'ost')!;
    await fireEvent.click(within(rows()[1]).getByRole('button', { name: 'Declined' }));
    expect(await screen.findByText('Saved: Opioid substitution (OST) — Declined.')).toBeTruthy();
    expect(backend.callsOf('update_referral')).toEqual([{ id: ost.id, status: 'declined' }]);
    expect(backend.referrals.find((r) => r.id === ost.id)?.status).toBe('declined');
    await waitFor(() => expect(screen.getByText('Open referrals: 3')).toBeTruthy());
    expect(labels()).not.toContain('MAIV288 — What happened with the referral: Opioid substitution (OST)');
    expect(backend.callsOf('open_referrals')).toHaveLength(2);
    await waitFor(() => expect(session.status!.pending).toBe(pending + 1));
  });

  it('undoes a mistaken tap', async () => {
    const { backend, session } = await site();
    renderWith(Referrals, session);
    await screen.findByText('Open referrals: 4');
    await fireEvent.click(within(rows()[0]).getByRole('button', { name: 'Lost to follow-up' }));
    await screen.findByText('Saved: Hepatitis C treatment — Lost to follow-up.');
    await fireEvent.click(screen.getByRole('button', { name: 'Undo' }));
    expect(await screen.findByText('Undone: the referral (Hepatitis C treatment) is open again.')).toBeTruthy();
    await waitFor(() => expect(screen.getByText('Open referrals: 4')).toBeTruthy());
    expect(backend.referrals.find((r) => r.target === 'hcv_treatment')?.status).toBe('issued');
    expect(screen.queryByRole('button', { name: 'Undo' })).toBeNull();
  });

  it('keeps the row and says why when the outcome cannot be saved', async () => {
    const { backend, session } = await site();
    renderWith(Referrals, session);
    await screen.findByText('Open referrals: 4');
    backend.failures.set('update_referral', { code: 'disk_full', message: 'database or disk is full' });
    await fireEvent.click(within(rows()[0]).getByRole('button', { name: 'Attended' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain("The tablet's storage is full.");
    expect(rows()[0].closest('li')?.contains(alert)).toBe(true);
    expect(screen.getByText('Open referrals: 4')).toBeTruthy();
    expect(backend.referrals.find((r) => r.target === 'hcv_treatment')?.status).toBe('issued');
    // The next tap works, and the row's message goes with it.
    await fireEvent.click(within(rows()[0]).getByRole('button', { name: 'Attended' }));
    await waitFor(() => expect(screen.getByText('Open referrals: 3')).toBeTruthy());
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('drops a referral that no longer exists, saying so', async () => {
    const { backend, session } = await site();
    renderWith(Referrals, session);
    await screen.findByText('Open referrals: 4');
    backend.referrals.find((r) => r.target === 'hcv_treatment')!.deleted = true;
    await fireEvent.click(within(rows()[0]).getByRole('button', { name: 'Attended' }));
    expect(await screen.findByText(/This record is no longer on this tablet/)).toBeTruthy();
    await waitFor(() => expect(screen.getByText('Open referrals: 3')).toBeTruthy());
    expect(screen.queryByRole('button', { name: 'Undo' })).toBeNull();
  });

  it('says when every referral has an outcome', async () => {
    const { backend, session } = await fakeSession();
    backend.referrals = [];
    renderWith(Referrals, session);
    expect(await screen.findByText('No open referrals: every referral from this site has an outcome.')).toBeTruthy();
    expect(screen.getByText('Open referrals: 0')).toBeTruthy();
  });

  it('shows why the list could not be read, and reads it again on request', async () => {
    const { backend, session } = await fakeSession();
    backend.failures.set('open_referrals', { code: 'app_locked', message: 'the app is locked: enter the PIN' });
    renderWith(Referrals, session);
    expect(await screen.findByText(/The app is locked\. Enter your PIN\./)).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Refresh' }));
    expect(await screen.findByText('Open referrals: 3')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('reactive tests follow-up (linkage to care)', () => {
  const linkRows = () => screen.queryAllByRole('group', { name: /^Linked to care\?/ });
  const linkLabels = () => linkRows().map((g) => g.getAttribute('aria-label'));

  async function tested() {
    const { backend, session } = await fakeSession();
    const id = (uic: string) => backend.clients.find((c) => c.uic === uic)!.id;
    // Besides the demo's open HIV test (MAIV288, 2 days ago): an older anonymous one, and tests
    // the list leaves out: non-reactive, linked already, of another site.
    backend.addTestResult({ client: null, test: 'tb_screening', daysAgo: 6 });
    backend.addTestResult({ client: id('NAPE295'), test: 'syphilis', result: 'non_reactive', daysAgo: 1 });
    backend.addTestResult({ client: id('NAPE295'), test: 'hcv_rapid', linked: true, daysAgo: 1 });
    backend.addTestResult({ client: id('MAIV287'), test: 'pregnancy', daysAgo: 1, site: 'site-2' });
    return { backend, session, id };
  }

  it('lists the reactive tests not yet linked, oldest first, with code, test and when tested', async () => {
    const { backend, session } = await tested();
    renderWith(Referrals, session);
    expect(await screen.findByRole('heading', { name: 'Reactive tests: linked to care?' })).toBeTruthy();
    expect(await screen.findByText('2 reactive tests waiting')).toBeTruthy();
    expect(backend.callsOf('open_linkages')).toEqual([undefined]);
    expect(linkLabels()).toEqual(['Linked to care? No client code, TB screening', 'Linked to care? MAIV288, HIV rapid test']);
    const hiv = linkRows()[1].closest('li')!;
    expect(within(hiv).getByText('MAIV288')).toBeTruthy();
    expect(within(hiv).getByText('HIV rapid test')).toBeTruthy();
    expect(within(hiv).getByText(/Tested 2 days ago/)).toBeTruthy();
    expect(screen.queryByText('Syphilis')).toBeNull();
    expect(screen.queryByText('Hepatitis C rapid test')).toBeNull();
    expect(screen.queryByText('Pregnancy test')).toBeNull();
  });

  it('asks to confirm on the first tap, records on the second, and the row leaves the list', async () => {
    const { backend, session } = await tested();
    renderWith(Referrals, session);
    await screen.findByText('2 reactive tests waiting');
    const pending = session.status!.pending;
    const hiv = backend.testResults.find((r) => r.test === 'hiv_rapid')!;
    await fireEvent.click(within(linkRows()[1]).getByRole('button', { name: 'Linked to care' }));
    expect(backend.callsOf('record_linkage')).toEqual([]);
    expect(within(linkRows()[1]).getByText('Sure? This cannot be undone on the tablet.')).toBeTruthy();
    // Cancel takes the question back; nothing is recorded.
    await fireEvent.click(within(linkRows()[1]).getByRole('button', { name: 'Cancel' }));
    expect(within(linkRows()[1]).queryByRole('button', { name: 'Yes, linked to care' })).toBeNull();
    await fireEvent.click(within(linkRows()[1]).getByRole('button', { name: 'Linked to care' }));
    await fireEvent.click(within(linkRows()[1]).getByRole('button', { name: 'Yes, linked to care' }));
    expect(await screen.findByText('Saved: MAIV288 — HIV rapid test, linked to care.')).toBeTruthy();
    expect(backend.callsOf('record_linkage')).toEqual([{ id: hiv.id }]);
    expect(backend.testResults.find((r) => r.id === hiv.id)).toMatchObject({ linked_to_care: true, linked_at: expect.any(String) });
    await waitFor(() => expect(screen.getByText('1 reactive test waiting')).toBeTruthy());
    expect(linkLabels()).toEqual(['Linked to care? No client code, TB screening']);
    expect(backend.callsOf('open_linkages')).toHaveLength(2);
    await waitFor(() => expect(session.status!.pending).toBe(pending + 1));
  });

  it('keeps the row and says why when the test was linked meanwhile', async () => {
    const { backend, session } = await tested();
    renderWith(Referrals, session);
    await screen.findByText('2 reactive tests waiting');
    backend.testResults.find((r) => r.test === 'hiv_rapid')!.linked_to_care = true;
    await fireEvent.click(within(linkRows()[1]).getByRole('button', { name: 'Linked to care' }));
    await fireEvent.click(within(linkRows()[1]).getByRole('button', { name: 'Yes, linked to care' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('This could not be saved.');
    expect(alert.textContent).toContain('this person was linked to care already');
    expect(linkRows()[1].closest('li')?.contains(alert)).toBe(true);
    expect(linkLabels()).toHaveLength(2);
    expect(screen.getByText('2 reactive tests waiting')).toBeTruthy();
    expect(screen.queryByRole('status')).toBeNull();
    // The row's button is back, and asking again takes the row's message away.
    await fireEvent.click(within(linkRows()[1]).getByRole('button', { name: 'Linked to care' }));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('drops a test that is no longer on the tablet, saying so', async () => {
    const { backend, session } = await tested();
    renderWith(Referrals, session);
    await screen.findByText('2 reactive tests waiting');
    backend.testResults = backend.testResults.filter((r) => r.test !== 'tb_screening');
    await fireEvent.click(within(linkRows()[0]).getByRole('button', { name: 'Linked to care' }));
    await fireEvent.click(within(linkRows()[0]).getByRole('button', { name: 'Yes, linked to care' }));
    expect(await screen.findByText(/This record is no longer on this tablet/)).toBeTruthy();
    await waitFor(() => expect(screen.getByText('1 reactive test waiting')).toBeTruthy());
    expect(linkLabels()).toEqual(['Linked to care? MAIV288, HIV rapid test']);
  });

  it('says when no reactive test waits', async () => {
    const { backend, session } = await fakeSession();
    backend.testResults = [];
    renderWith(Referrals, session);
    expect(await screen.findByText('No reactive tests waiting: every person with a reactive result from this site is linked to care.')).toBeTruthy();
    expect(screen.getByText('0 reactive tests waiting')).toBeTruthy();
    expect(linkRows()).toEqual([]);
  });

  it('shows why the list could not be read, and reads it again on request', async () => {
    const { backend, session } = await fakeSession();
    backend.failures.set('open_linkages', { code: 'app_locked', message: 'the app is locked: enter the PIN' });
    renderWith(Referrals, session);
    expect(await screen.findByText(/The app is locked\. Enter your PIN\./)).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('1 reactive test waiting')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('translates the test and the count', async () => {
    const { session } = await tested();
    setLanguage('uk');
    renderWith(Referrals, session);
    expect(await screen.findByText('Експрес-тест на ВІЛ')).toBeTruthy();
    expect(screen.getByText('2 реактивні тести очікують')).toBeTruthy();
    expect(screen.getAllByRole('button', { name: 'Направлено на лікування' })).toHaveLength(2);
  });
});
