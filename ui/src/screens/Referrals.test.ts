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
