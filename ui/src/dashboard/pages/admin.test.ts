// @vitest-environment happy-dom
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Dashboard from '../Dashboard.svelte';
import { dashboardOn, NOW, renderPage } from '../testing';
import Catalogue from './Catalogue.svelte';
import Devices from './Devices.svelte';
import Sites from './Sites.svelte';
import Users from './Users.svelte';

function rowNamed(rows: HTMLElement[], name: string): HTMLElement {
  const row = rows.find((r) => r.textContent?.includes(name));
  if (!row) throw new Error(`no row ${name}`);
  return row;
}

describe('tablets', () => {
  it('a coordinator renames and, after confirming, disconnects a tablet of their sites only', async () => {
    const { api, state } = await dashboardOn();
    renderPage(Devices, state);
    const rows = await screen.findAllByTestId('device-row');
    // Van 2 also works at a site that is not the coordinator's: no actions on it.
    expect(within(rowNamed(rows, 'Van 2 tablet')).queryByTestId('device-revoke')).toBeNull();

    const window = rowNamed(rows, 'Drop-in window tablet');
    await fireEvent.click(within(window).getByTestId('device-rename'));
    const input = within(window).getByTestId('device-name') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'Window 1' } });
    await fireEvent.click(within(window).getByTestId('device-rename-save'));
    expect((await screen.findByTestId('device-done')).textContent).toContain('Window 1');
    expect(api.callsOf('renameDevice')).toEqual([['dev_01J9Z6Q4W8R', 'Window 1']]);

    const renamed = rowNamed(await screen.findAllByTestId('device-row'), 'Window 1');
    await fireEvent.click(within(renamed).getByTestId('device-revoke'));
    expect(api.callsOf('revokeDevice')).toEqual([]);
    await fireEvent.click(within(renamed).getByTestId('device-revoke-confirm'));
    await waitFor(() => expect(api.callsOf('revokeDevice')).toEqual([['dev_01J9Z6Q4W8R']]));
    await waitFor(() => expect(within(rowNamed(screen.getAllByTestId('device-row'), 'Window 1')).getByTestId('revoked')).toBeTruthy());
  });

  it('creates an enrolment code on a printable card, lists it, and cancels it', async () => {
    const { api, state } = await dashboardOn();
    renderPage(Devices, state);
    const site = (await screen.findByTestId('enrol-site')) as HTMLSelectElement;
    await waitFor(() => expect(site.value).toBe('site-dropin'));
    await fireEvent.input(screen.getByTestId('enrol-worker'), { target: { value: 'worker' } });
    await fireEvent.click(screen.getByTestId('enrol-create'));
    const card = await screen.findByTestId('enrol-card');
    expect(within(card).getByTestId('enrol-code').textContent).toBe('DEMO0001ABCD');
    expect(within(card).getByTestId('enrol-server').textContent).toBe('https://outpost.example.org');
    expect(card.querySelector('svg')).toBeTruthy();
    expect(api.callsOf('createEnrolmentCode')).toEqual([[{ site: 'site-dropin', worker: 'worker', valid_hours: 72 }]]);
    const open = await screen.findAllByTestId('enrol-open');
    expect(open).toHaveLength(1);
    await fireEvent.click(within(open[0]).getByTestId('enrol-cancel'));
    await waitFor(() => expect(screen.queryAllByTestId('enrol-open')).toHaveLength(0));
  });
});

describe('sites', () => {
  it('a coordinator sets the estimates of their site but cannot rename it', async () => {
    const { api, state } = await dashboardOn();
    renderPage(Sites, state);
    const rows = await screen.findAllByTestId('site-row');
    expect(rows).toHaveLength(2);
    expect(screen.queryByTestId('site-add')).toBeNull();
    await fireEvent.click(within(rows[0]).getByTestId('site-edit'));
    expect((screen.getByTestId('site-name') as HTMLInputElement).disabled).toBe(true);
    await fireEvent.input(screen.getByTestId('site-pwid'), { target: { value: '1500' } });
    await fireEvent.submit(screen.getByTestId('site-form'));
    expect((await screen.findByTestId('site-saved')).textContent).toContain('Drop-in centre');
    expect(api.callsOf('changeSite')[0][1]).toMatchObject({ name: 'Drop-in centre', pwid_estimate: 1500 });
  });

  it('an admin adds a site; a duplicate name is refused and nothing is added', async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Sites, state);
    await fireEvent.click(await screen.findByTestId('site-add'));
    await fireEvent.input(screen.getByTestId('site-name'), { target: { value: 'drop-in centre' } });
    await fireEvent.submit(screen.getByTestId('site-form'));
    expect((await screen.findByTestId('page-error')).dataset.code).toBe('clash');
    await fireEvent.input(screen.getByTestId('site-name'), { target: { value: 'Night bus' } });
    await fireEvent.input(screen.getByTestId('site-pwid'), { target: { value: 'many' } });
    await fireEvent.submit(screen.getByTestId('site-form'));
    expect(screen.getByText('Estimates are whole numbers of people (or empty).')).toBeTruthy();
    await fireEvent.input(screen.getByTestId('site-pwid'), { target: { value: '300' } });
    await fireEvent.submit(screen.getByTestId('site-form'));
    await screen.findByTestId('site-saved');
    expect(api.siteList.map((s) => s.name)).toContain('Night bus');
    expect(api.callsOf('addSite')).toHaveLength(2);
  });
});

describe('catalogue', () => {
  it('an admin adds a commodity with its Russian name and cannot put a retired one in a kit', async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Catalogue, state);
    await fireEvent.click(await screen.findByTestId('commodity-add'));
    await fireEvent.input(screen.getByTestId('commodity-code'), { target: { value: 'syringe_05ml' } });
    await fireEvent.input(screen.getByTestId('commodity-name'), { target: { value: 'Syringe 0.5 ml' } });
    await fireEvent.input(screen.getByTestId('commodity-name-ru'), { target: { value: 'Шприц 0,5 мл' } });
    await fireEvent.submit(screen.getByTestId('commodity-form'));
    await screen.findByTestId('catalogue-saved');
    expect(api.callsOf('addCommodity')[0][0]).toMatchObject({ code: 'syringe_05ml', names: { ru: 'Шприц 0,5 мл' } });
    await waitFor(() => expect(screen.getAllByTestId('commodity-row').some((r) => r.dataset.code === 'syringe_05ml')).toBe(true));

    // Retire the leaflet: it stays listed, marked, and a kit can no longer offer it.
    const leaflet = screen.getAllByTestId('commodity-row').find((r) => r.dataset.code === 'leaflet');
    if (!leaflet) throw new Error('no leaflet row');
    await fireEvent.click(within(leaflet).getByTestId('commodity-edit'));
    await fireEvent.click(screen.getByTestId('commodity-retired'));
    await fireEvent.submit(screen.getByTestId('commodity-form'));
    await waitFor(() => expect(api.callsOf('changeCommodity')).toHaveLength(1));
    await waitFor(() => {
      const row = screen.getAllByTestId('commodity-row').find((r) => r.dataset.code === 'leaflet');
      expect(row?.textContent).toContain('Retired');
    });
    await fireEvent.click(screen.getByTestId('kit-add'));
    await fireEvent.click(screen.getByTestId('kit-add-item'));
    const options = Array.from(screen.getByTestId('kit-item').querySelectorAll('option'));
    expect(options.find((o) => o.value === 'leaflet')?.disabled).toBe(true);
    expect(options.find((o) => o.value === 'syringe_05ml')?.disabled).toBe(false);
    // And the server refuses it anyway (the fake follows the server's rule).
    await expect(api.addKit({ code: 'info', name: 'Info kit', items: [{ commodity: 'leaflet', quantity: 1 }], order: 50, retired: false })).rejects.toMatchObject({ code: 'invalid_field' });
  });

  it('a coordinator sees the catalogue without the buttons that change it', async () => {
    const { state } = await dashboardOn();
    renderPage(Catalogue, state);
    expect((await screen.findAllByTestId('commodity-row')).length).toBeGreaterThan(10);
    expect(screen.queryByTestId('commodity-add')).toBeNull();
    expect(screen.queryByTestId('kit-add')).toBeNull();
  });
});

describe('staff accounts', () => {
  it('an admin adds a worker, sees the temporary password once, and sets up a second factor', async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Users, state);
    await fireEvent.click(await screen.findByTestId('user-add'));
    await fireEvent.input(screen.getByTestId('user-name'), { target: { value: 'omar' } });
    await fireEvent.submit(screen.getByTestId('user-form'));
    expect((await screen.findByTestId('page-error')).textContent).toContain('one site at least');
    await fireEvent.click(screen.getAllByTestId('user-site')[0]);
    await fireEvent.submit(screen.getByTestId('user-form'));
    const shown = await screen.findByTestId('user-password-value');
    expect(shown.textContent).toMatch(/^TEMP-/);
    expect(api.callsOf('addUser').at(-1)?.[0]).toMatchObject({ username: 'omar', role: 'outreach_worker', sites: ['site-dropin'] });
    await waitFor(() => expect(screen.getAllByTestId('user-row').some((r) => r.dataset.user === 'omar')).toBe(true));
    const row = screen.getAllByTestId('user-row').find((r) => r.dataset.user === 'omar');
    if (!row) throw new Error('no row for omar');
    expect(row.textContent).toContain('temporary password');
    await fireEvent.click(within(row).getByTestId('user-totp-toggle'));
    expect((await screen.findByTestId('user-totp')).querySelector('svg')).toBeTruthy();
    expect(screen.queryByTestId('user-password')).toBeNull();
  });

  it('the admin cannot disable themselves', async () => {
    const { state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Users, state);
    const me = (await screen.findAllByTestId('user-row')).find((r) => r.dataset.user === 'admin');
    if (!me) throw new Error('no admin row');
    await fireEvent.click(within(me).getByTestId('user-edit'));
    await fireEvent.click(screen.getByTestId('user-disabled'));
    await fireEvent.submit(screen.getByTestId('user-form'));
    expect((await screen.findByTestId('page-error')).dataset.code).toBe('forbidden');
  });
});

describe('a temporary password', () => {
  it('is replaced before anything else, then the person logs in again', async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    const { password } = await api.addUser({ username: 'lena', role: 'coordinator', sites: ['site-dropin'], disabled: false });
    await state.logout();
    await state.signedIn(await api.login({ username: 'lena', password }), { justLoggedIn: true });
    render(Dashboard, { props: { api, useAddress: false, nowMs: NOW } });
    const form = await screen.findByTestId('password-form');
    expect(screen.queryByTestId('nav-indicators')).toBeNull();
    await fireEvent.input(screen.getByTestId('password-current'), { target: { value: password } });
    await fireEvent.input(screen.getByTestId('password-new'), { target: { value: 'lena-chooses-this' } });
    await fireEvent.input(screen.getByTestId('password-repeat'), { target: { value: 'lena-chooses-that' } });
    await fireEvent.submit(form);
    expect(screen.getByTestId('password-mismatch')).toBeTruthy();
    await fireEvent.input(screen.getByTestId('password-repeat'), { target: { value: 'lena-chooses-this' } });
    await fireEvent.submit(form);
    expect((await screen.findByTestId('login-notice')).textContent).toContain('Password changed');
    expect(api.accounts.find((a) => a.user.username === 'lena')?.password).toBe('lena-chooses-this');
  });
});

describe('the organisation', () => {
  it('is renamed by an admin; its scheme is locked once clients exist and free before', async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Sites, state);
    const scheme = (await screen.findByTestId('org-scheme')) as HTMLSelectElement;
    expect(scheme.disabled).toBe(true);
    expect(screen.getByTestId('org-questions').textContent).toContain("Mother's first name");
    await fireEvent.input(screen.getByTestId('org-name'), { target: { value: 'Shelter NGO' } });
    await fireEvent.submit(screen.getByTestId('org-form'));
    await screen.findByTestId('org-saved');
    expect(api.org.name).toBe('Shelter NGO');
  });

  it('lets a new programme choose another scheme, and is not shown to coordinators', async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    api.org.scheme_changeable = true;
    renderPage(Sites, state);
    const scheme = (await screen.findByTestId('org-scheme')) as HTMLSelectElement;
    await waitFor(() => expect(scheme.disabled).toBe(false));
    const option = Array.from(scheme.options).find((o) => o.value === 'surname_day_year');
    if (!option) throw new Error('no surname scheme offered');
    option.selected = true;
    await fireEvent.change(scheme);
    await waitFor(() => expect(screen.getByTestId('org-questions').textContent).toContain('Surname'));
    expect(screen.getByTestId('org-questions').textContent).toContain('Surname');
    await fireEvent.submit(screen.getByTestId('org-form'));
    await screen.findByTestId('org-saved');
    expect(api.callsOf('changeOrganisation')[0][0]).toMatchObject({ uic_scheme: { name: 'surname_day_year' } });

    const coordinator = await dashboardOn();
    renderPage(Sites, coordinator.state);
    await screen.findAllByTestId('site-row');
    expect(coordinator.api.callsOf('organisation')).toEqual([]);
  });

  it('sets a retention period, refuses one too short, and clears it again', async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Sites, state);
    const days = (await screen.findByTestId('org-retention')) as HTMLInputElement;
    await fireEvent.input(days, { target: { value: '7' } });
    await fireEvent.submit(screen.getByTestId('org-form'));
    expect((await screen.findByTestId('page-error')).dataset.code).toBe('invalid_field');
    expect(api.org.retention_days).toBeNull();
    await fireEvent.input(days, { target: { value: '730' } });
    await fireEvent.submit(screen.getByTestId('org-form'));
    await screen.findByTestId('org-saved');
    expect(api.org.retention_days).toBe(730);
    expect(screen.getByTestId('org-form').textContent).toContain('730 days');
    await fireEvent.input(days, { target: { value: '' } });
    await fireEvent.submit(screen.getByTestId('org-form'));
    await waitFor(() => expect(api.org.retention_days).toBeNull());
  });

  it("sets the programme's own needle-syringe target, refuses one out of range, and goes back to WHO's 300", async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Sites, state);
    const target = (await screen.findByTestId('org-nsp-target')) as HTMLInputElement;
    expect(target.value).toBe('');
    expect(target.placeholder).toBe('300');
    await fireEvent.input(target, { target: { value: '20' } });
    await fireEvent.submit(screen.getByTestId('org-form'));
    expect((await screen.findByTestId('page-error')).dataset.code).toBe('invalid_field');
    expect(api.org.nsp_target_set).toBe(false);
    await fireEvent.input(target, { target: { value: '250' } });
    await fireEvent.submit(screen.getByTestId('org-form'));
    await screen.findByTestId('org-saved');
    expect(api.callsOf('changeOrganisation').at(-1)?.[0]).toMatchObject({ nsp_target: 250 });
    expect(api.org.nsp_target_set).toBe(true);
    expect(api.org.nsp_target).toBe(250);
    await fireEvent.input(target, { target: { value: '' } });
    await fireEvent.submit(screen.getByTestId('org-form'));
    await waitFor(() => expect(api.org.nsp_target_set).toBe(false));
    expect(api.org.nsp_target).toBe(300);
  });

  it('turns the client index on and off, off at first, with its risk said beside it', async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Sites, state);
    const index = (await screen.findByTestId('org-client-index')) as HTMLInputElement;
    expect(index.checked).toBe(false);
    expect(screen.getByTestId('org-form').textContent).toContain('A lost tablet then carries');
    await fireEvent.click(index);
    await fireEvent.submit(screen.getByTestId('org-form'));
    await screen.findByTestId('org-saved');
    expect(api.callsOf('changeOrganisation').at(-1)?.[0]).toMatchObject({ client_index: true });
    expect(api.org.client_index).toBe(true);
    await fireEvent.click(index);
    await fireEvent.submit(screen.getByTestId('org-form'));
    await waitFor(() => expect(api.org.client_index).toBe(false));
  });
});

describe('erasing a client', () => {
  it('asks for the code and a reason, confirms naming the code, and reports what went', async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Sites, state);
    const start = (await screen.findByTestId('erase-start')) as HTMLButtonElement;
    expect(start.disabled).toBe(true);
    await fireEvent.input(screen.getByTestId('erase-code'), { target: { value: 'navi185' } });
    await fireEvent.input(screen.getByTestId('erase-reason'), { target: { value: 'asked at the window' } });
    await fireEvent.submit(screen.getByTestId('erase-form'));
    // Nothing is sent before the confirmation, which names the code.
    expect(api.callsOf('eraseClient')).toEqual([]);
    expect(screen.getByTestId('erase-confirm-box').textContent).toContain('NAVI185');
    await fireEvent.click(screen.getByTestId('erase-confirm'));
    expect((await screen.findByTestId('page-error')).dataset.code).toBe('not_found');

    await fireEvent.input(screen.getByTestId('erase-code'), { target: { value: ' maiv287 ' } });
    await fireEvent.submit(screen.getByTestId('erase-form'));
    await fireEvent.click(screen.getByTestId('erase-confirm'));
    expect((await screen.findByTestId('erase-done')).textContent).toContain('7 record(s)');
    expect(api.callsOf('eraseClient')[1][0]).toEqual({ code: 'MAIV287', reason: 'asked at the window' });
    expect((screen.getByTestId('erase-code') as HTMLInputElement).value).toBe('');
  });

  it('is not offered to coordinators', async () => {
    const { state } = await dashboardOn();
    renderPage(Sites, state);
    await screen.findAllByTestId('site-row');
    expect(screen.queryByTestId('erase-form')).toBeNull();
  });

  it('can be cancelled, and sends nothing', async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Sites, state);
    await fireEvent.input(await screen.findByTestId('erase-code'), { target: { value: 'MAIV287' } });
    await fireEvent.input(screen.getByTestId('erase-reason'), { target: { value: 'asked' } });
    await fireEvent.submit(screen.getByTestId('erase-form'));
    await fireEvent.click(within(screen.getByTestId('erase-confirm-box')).getByText('Cancel'));
    expect(screen.queryByTestId('erase-confirm-box')).toBeNull();
    expect(api.callsOf('eraseClient')).toEqual([]);
  });
});
