// @vitest-environment happy-dom
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { setLanguage } from '../i18n/index.svelte';
import { ApiError } from './api';
import Dashboard from './Dashboard.svelte';
import { FakeDashboardApi } from './fakeApi';
import { NOW } from './testing';

function open(api: FakeDashboardApi) {
  setLanguage('en');
  return render(Dashboard, { props: { api, useAddress: false, nowMs: NOW } });
}

async function signIn(username: string, password: string) {
  await fireEvent.input(await screen.findByLabelText('Username'), { target: { value: username } });
  await fireEvent.input(screen.getByLabelText('Password'), { target: { value: password } });
  await fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('signing in', () => {
  it('says when the password is wrong, then signs in and shows the indicators', async () => {
    const api = new FakeDashboardApi({ nowMs: NOW });
    open(api);
    await signIn('coordinator', 'wrong');
    const error = await screen.findByTestId('login-error');
    expect(error.textContent).toBe('The username or password is wrong, or the account is disabled.');
    expect(error.dataset.code).toBe('login_failed');
    expect((screen.getByLabelText('Password') as HTMLInputElement).value).toBe('');

    await signIn('coordinator', 'correct horse');
    expect(await screen.findByTestId('page-indicators')).toBeTruthy();
    expect(screen.getByTestId('user').textContent).toContain('coordinator');
    expect(screen.getByTestId('user').textContent).toContain('Coordinator');
    expect(screen.queryByTestId('nav-audit')).toBeNull(); // admins only
    expect(api.callsOf('login')).toEqual([
      [{ username: 'coordinator', password: 'wrong', totp: undefined }],
      [{ username: 'coordinator', password: 'correct horse', totp: undefined }],
    ]);
  });

  it('asks for the 6-digit code when the account has a second factor', async () => {
    const api = new FakeDashboardApi({ nowMs: NOW });
    open(api);
    await signIn('admin', 'battery staple');
    const code = (await screen.findByLabelText('6-digit code')) as HTMLInputElement;
    expect(screen.queryByTestId('login-error')).toBeNull();
    const submit = screen.getByRole('button', { name: 'Sign in' }) as HTMLButtonElement;
    await fireEvent.input(code, { target: { value: '12a34' } });
    expect(code.value).toBe('1234');
    expect(submit.disabled).toBe(true);

    await fireEvent.input(code, { target: { value: '654321' } });
    await fireEvent.click(submit);
    expect((await screen.findByTestId('login-error')).textContent).toBe('That code is wrong or has expired. Enter the current code.');

    await fireEvent.input(screen.getByLabelText('6-digit code'), { target: { value: '123456' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByTestId('nav-audit')).toBeTruthy();
    expect(api.callsOf('login').at(-1)).toEqual([{ username: 'admin', password: 'battery staple', totp: '123456' }]);
  });

  it('says how long to wait after too many attempts, and when the server is unreachable', async () => {
    const api = new FakeDashboardApi({ nowMs: NOW });
    api.failedLogins = api.maxFailedLogins;
    open(api);
    await signIn('coordinator', 'correct horse');
    const error = await screen.findByTestId('login-error');
    expect(error.dataset.code).toBe('rate_limited');
        expect(error.textContent).toMatch(/^Too many failed attempts\. Try again in (60|59) seconds\.$/u);
    expect((screen.getByRole('button', { name: 'Sign in' }) as HTMLButtonElement).disabled).toBe(true);

    const offline = new FakeDashboardApi({ nowMs: NOW });
    offline.failNext.login = new ApiError(0, 'network', 'Failed to fetch');
    document.body.innerHTML = '';
    open(offline);
    await signIn('coordinator', 'correct horse');
    expect((await screen.findByTestId('login-error')).textContent).toBe(
      'The server cannot be reached. Check the connection and try again.',
    );
  });

  it('restores a session from the cookie on load', async () => {
    const api = new FakeDashboardApi({ nowMs: NOW, signedInAs: 'admin' });
    open(api);
    expect(await screen.findByTestId('page-indicators')).toBeTruthy();
    expect(screen.getByTestId('nav-audit')).toBeTruthy();
    expect(api.callsOf('login')).toEqual([]);
  });

  it('goes back to the login page when the session ends, and after signing out', async () => {
    const api = new FakeDashboardApi({ nowMs: NOW, signedInAs: 'coordinator' });
    open(api);
    await screen.findByTestId('page-indicators');
    api.expireSession();
    await fireEvent.click(screen.getByTestId('nav-devices'));
    expect((await screen.findByTestId('login-notice')).textContent).toBe('Your session has ended. Please sign in again.');

    await signIn('coordinator', 'correct horse');
    await screen.findByTestId('page-devices'); // back where the session ended
    await fireEvent.click(screen.getByTestId('logout'));
    expect((await screen.findByTestId('login-notice')).textContent).toBe('You have signed out.');
    expect(api.session).toBeNull();
  });

  it('explains when the browser does not keep the session cookie (plain HTTP)', async () => {
    const api = new FakeDashboardApi({ nowMs: NOW });
    api.failNext.sites = new ApiError(401, 'not_logged_in', 'Sign in first.');
    open(api);
    await signIn('coordinator', 'correct horse');
    expect((await screen.findByTestId('login-notice')).textContent).toMatch(/did not keep the session\. Open the dashboard over HTTPS/);
  });

  it('tells outreach workers the dashboard is not for them', async () => {
    const api = new FakeDashboardApi({ nowMs: NOW, signedInAs: 'worker' });
    open(api);
    expect(await screen.findByText('This account cannot use the dashboard')).toBeTruthy();
    expect(api.callsOf('indicators')).toEqual([]);
  });
});

describe('the report filter', () => {
  it('applies a custom period, refusing one that ends before it starts', async () => {
    const api = new FakeDashboardApi({ nowMs: NOW, signedInAs: 'coordinator' });
    open(api);
    await screen.findByTestId('page-indicators');
    await waitFor(() => expect(api.callsOf('indicators').length).toBeGreaterThan(0));
    expect(api.callsOf('indicators')[0][0]).toMatchObject({ from: '2026-11-01', to: '2026-11-20', suppress: true, sites: [] });

    await fireEvent.click(screen.getByTestId('preset-custom'));
    await fireEvent.input(screen.getByTestId('filter-from'), { target: { value: '2026-10-31' } });
    await fireEvent.input(screen.getByTestId('filter-to'), { target: { value: '2026-10-01' } });
    await fireEvent.click(screen.getByTestId('filter-apply'));
    expect(await screen.findByText('The start date is after the end date.')).toBeTruthy();

    // While small numbers are hidden, a few days' difference is refused (subtraction would give
    // the hidden numbers back): whole months only.
    await fireEvent.input(screen.getByTestId('filter-from'), { target: { value: '2026-10-02' } });
    await fireEvent.input(screen.getByTestId('filter-to'), { target: { value: '2026-10-31' } });
    await fireEvent.click(screen.getByTestId('filter-apply'));
    expect(await screen.findByText(/a period is whole months/)).toBeTruthy();

    // Dates are typed the way the dashboard's language writes them (British English here).
    expect(screen.getByTestId('filter-from').getAttribute('placeholder')).toBe('DD/MM/YYYY');
    await fireEvent.input(screen.getByTestId('filter-from'), { target: { value: '1/10/2026' } });
    await fireEvent.input(screen.getByTestId('filter-to'), { target: { value: '31/10/2026' } });
    await fireEvent.click(screen.getByTestId('filter-apply'));
    await waitFor(() => expect(screen.getByTestId('indicators-period').dataset.from).toBe('2026-10-01'));
    expect((screen.getByTestId('filter-to') as HTMLInputElement).value).toBe('31/10/2026');
    expect(api.callsOf('indicators').at(-1)![0]).toMatchObject({ from: '2026-10-01', to: '2026-10-31' });

    // Switching suppression off asks again, with suppress=false.
    await fireEvent.click(screen.getByTestId('filter-suppress'));
    await waitFor(() => expect(api.callsOf('indicators').at(-1)![0]).toMatchObject({ suppress: false }));
    expect(await screen.findByText(/Small numbers are shown\. Do not share/)).toBeTruthy();
  });

  it('narrows the report to chosen sites', async () => {
    const api = new FakeDashboardApi({ nowMs: NOW, signedInAs: 'coordinator' });
    open(api);
    await screen.findByTestId('page-indicators');
    await fireEvent.click(screen.getByTestId('site-picker'));
    const options = screen.getAllByTestId('site-option') as HTMLInputElement[];
    expect(options.map((o) => o.checked)).toEqual([true, true]);
    await fireEvent.click(options[1]);
    await waitFor(() => expect(api.callsOf('indicators').at(-1)![0]).toMatchObject({ sites: ['site-dropin'] }));
    expect(within(screen.getByTestId('site-picker')).getByText('Drop-in centre')).toBeTruthy();
  });
});

describe('the address', () => {
  it('opens the page and filter it names, and follows navigation', async () => {
    const api = new FakeDashboardApi({ nowMs: NOW, signedInAs: 'coordinator' });
    history.replaceState(null, '', '#/stock?from=2026-10-01&to=2026-10-31&suppress=false');
    setLanguage('en');
    render(Dashboard, { props: { api, nowMs: NOW } });
    expect(await screen.findByTestId('page-stock')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('nav-exports'));
    await screen.findByTestId('page-exports');
    await waitFor(() => expect(location.hash).toBe('#/exports?from=2026-10-01&to=2026-10-31&suppress=false'));
    expect((screen.getByTestId('export-download') as HTMLAnchorElement).getAttribute('href')).toContain('suppress=false');

    // A coordinator sent to the audit log lands on the indicators instead.
    history.replaceState(null, '', '#/audit');
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect(await screen.findByTestId('page-indicators')).toBeTruthy();
    history.replaceState(null, '', '#');
  });

  it("keeps the donor report's set and period", async () => {
    const api = new FakeDashboardApi({ nowMs: NOW, signedInAs: 'coordinator' });
    history.replaceState(null, '', '#/indicators');
    setLanguage('en');
    render(Dashboard, { props: { api, nowMs: NOW } });
    await screen.findByTestId('page-indicators');
    await fireEvent.click(screen.getByTestId('nav-donor-reports'));
    expect(await screen.findByTestId('donor-report')).toBeTruthy();
    expect(screen.getByTestId('page-title').textContent).toBe('Donor reports');
    await waitFor(() => expect(location.hash).toBe('#/donor-reports?set=who_nsp&from=2025-01-01&to=2025-12-31'));
    await fireEvent.change(screen.getByTestId('set-picker'), { target: { value: 'pepfar_kp_prev' } });
    await waitFor(() => expect(location.hash).toBe('#/donor-reports?set=pepfar_kp_prev&from=2026-01-01&to=2026-06-30'));
    history.replaceState(null, '', '#');
  });
});
