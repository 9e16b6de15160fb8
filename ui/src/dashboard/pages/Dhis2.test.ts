// @vitest-environment happy-dom
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import Dashboard from '../Dashboard.svelte';
import {
  DEMO_KP_PREV_MAPPING,
} from '../fakeDonorData';
import { FakeDashboardApi } from '../fakeApi';
import { dashboardOn, NOW, renderPage } from '../testing';
import Dhis2 from './Dhis2.svelte';

async function setup() {
  const { api, state } = await dashboardOn({ signedInAs: 'admin' });
  renderPage(Dhis2, state);
  await screen.findByTestId('dhis2-preview');
  return { api, state };
}

/** Chooses a file in a file input, as a person picking it does. */
async function chooseFile(input: HTMLElement, text: string, name = 'mapping.csv') {
  const file = new File([text], name, { type: 'text/csv' });
  Object.defineProperty(input, 'files', { value: [file], configurable: true });
  await fireEvent.change(input);
}

const text = (el: Element | null | undefined) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
const mappingRow = (set: string) => {
  const row = screen.getAllByTestId('dhis2-mapping').find((r) => r.dataset.set === set);
  if (!row) throw new Error(`no mapping row for ${set}`);
  return row;
};

describe('the DHIS2 connection', () => {
  it('shows the address, never the token, and keeps the stored token when none is typed', async () => {
    const { api } = await setup();
    const url = screen.getByTestId('dhis2-url') as HTMLInputElement;
    const token = screen.getByTestId('dhis2-token') as HTMLInputElement;
    expect(url.value).toBe('https://dhis2.example.org');
    expect(token.type).toBe('password');
    expect(token.value).toBe('');
    expect(token.placeholder).toBe('Leave empty to keep the stored token');
    expect(text(screen.getByTestId('dhis2-token-state'))).toContain('A token is stored');

    await fireEvent.input(url, { target: { value: 'https://hmis.example.org/dhis' } });
    await fireEvent.submit(screen.getByTestId('dhis2-connection'));
    await screen.findByTestId('dhis2-connection-saved');
    expect(api.callsOf('setDhis2Connection')).toEqual([[{ url: 'https://hmis.example.org/dhis' }]]);
    expect(api.dhis2Url).toBe('https://hmis.example.org/dhis');
    expect(api.dhis2Token).toBe('d2pat_demo0token0demo0token');
  });

  it('shows a refused address and token under their fields, then saves a new token and forgets it', async () => {
    const { api } = await setup();
    await fireEvent.input(screen.getByTestId('dhis2-url'), { target: { value: 'http://dhis2.example.org' } });
    await fireEvent.input(screen.getByTestId('dhis2-token'), { target: { value: 'has a space' } });
    await fireEvent.submit(screen.getByTestId('dhis2-connection'));
    expect(text(await screen.findByTestId('dhis2-url-error'))).toContain('use an https:// address');
    expect(text(screen.getByTestId('dhis2-token-error'))).toContain('without spaces');
    expect(screen.queryByTestId('page-error')).toBeNull(); // said at the fields, not twice
    expect(api.dhis2Url).toBe('https://dhis2.example.org');

    await fireEvent.input(screen.getByTestId('dhis2-url'), { target: { value: 'https://dhis2.example.org' } });
    await fireEvent.input(screen.getByTestId('dhis2-token'), { target: { value: 'd2pat_new0token' } });
    await fireEvent.submit(screen.getByTestId('dhis2-connection'));
    await screen.findByTestId('dhis2-connection-saved');
    expect(api.callsOf('setDhis2Connection').at(-1)).toEqual([{ url: 'https://dhis2.example.org', token: 'd2pat_new0token' }]);
    expect(api.dhis2Token).toBe('d2pat_new0token');
    expect((screen.getByTestId('dhis2-token') as HTMLInputElement).value).toBe('');
    expect(screen.queryByTestId('dhis2-url-error')).toBeNull();
  });
});

describe('DHIS2 mappings', () => {
  it("lists each set's mapping, who saved it, and the problem of one that no longer fits", async () => {
    await setup();
    expect(text(within(mappingRow('pepfar_kp_prev')).getByTestId('dhis2-mapping-info'))).toBe(
      'Saved by admin on 8 Nov 2026 · 7 numbers · 3 organisation units',
    );
    expect(within(mappingRow('global_fund')).getByText('Needs a new import')).toBeTruthy();
    expect(text(within(mappingRow('global_fund')).getByTestId('dhis2-mapping-problem'))).toContain('no site is named "Drop-in center"');
    expect(within(mappingRow('who_nsp')).getByText('No mapping yet: this set cannot be sent.')).toBeTruthy();
  });

  it('refuses a sheet with bad rows, listing each row to fix, and saves it once fixed', async () => {
    const { api } = await setup();
    const bad = [
      'kind,key,cell,uid,category_option_combo,attribute_option_combo',
      'data_set,,,aWhoNsp0001,,',
      'org_unit,Drop-in centre,,aSiteDropIn,,',
      'value,syringes_per_pwid,,aWhoSyr0001,,',
      'value,pwid_reached,gender=female,not-a-uid,,',
    ].join('\n');
    await chooseFile(within(mappingRow('who_nsp')).getByTestId('dhis2-mapping-file-who_nsp'), bad);
    const errors = await within(mappingRow('who_nsp')).findByTestId('dhis2-mapping-errors');
    expect(text(errors)).toContain('The mapping was not saved: 2 problems.');
    expect(within(errors).getAllByTestId('dhis2-mapping-error').map(text)).toEqual([
      'row 4: key "syringes_per_pwid" is not an indicator of WHO NSP coverage (WHO/UNODC/UNAIDS technical guide) (syringes_per_pwid_per_year, needle_syringes_distributed, pwid_reached, pwid_nsp_coverage, pwid_regular_nsp)',
      'row 5: uid "not-a-uid" is not a DHIS2 identifier (11 letters and digits, a letter first)',
    ]);
    expect(api.callsOf('saveDhis2Mapping')[0]).toEqual(['who_nsp', bad]);
    expect(api.dhis2Mappings.has('who_nsp')).toBe(false);

    const good = bad.replace('syringes_per_pwid,', 'syringes_per_pwid_per_year,').replace('not-a-uid', 'aWhoPwidF01');
    await chooseFile(within(mappingRow('who_nsp')).getByTestId('dhis2-mapping-file-who_nsp'), good);
    expect(text(await screen.findByTestId('dhis2-mapping-saved'))).toBe(
      'The mapping of WHO NSP coverage (WHO/UNODC/UNAIDS technical guide) was saved.',
    );
    expect(screen.queryByTestId('dhis2-mapping-errors')).toBeNull();
    expect(text(within(mappingRow('who_nsp')).getByTestId('dhis2-mapping-info'))).toContain('2 numbers · 1 organisation unit');
    // The set can now be sent.
    const options = Array.from((screen.getByTestId('dhis2-set') as HTMLSelectElement).options).map((o) => o.value);
    expect(options).toContain('who_nsp');
  });
});

describe('sending a report to DHIS2', () => {
  it('previews the last half-year: the DHIS2 period, the values, the held-back numbers and what is not mapped', async () => {
    const { api } = await setup();
    // The first set with a mapping that fits (PEPFAR's KP_PREV, half-yearly), its last half-year that is over.
    expect((screen.getByTestId('dhis2-set') as HTMLSelectElement).value).toBe('pepfar_kp_prev');
    expect(screen.getByTestId('period-2026-H1').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('period-2026-H2').hasAttribute('disabled')).toBe(true); // not over
    await fireEvent.click(screen.getByTestId('dhis2-preview'));
    const preview = await screen.findByTestId('dhis2-preview-result');
    expect(api.callsOf('dhis2Preview')).toEqual([['pepfar_kp_prev', { from: '2026-01-01', to: '2026-06-30', sites: [], suppress: true }]]);
    expect(text(screen.getByTestId('dhis2-period'))).toBe('2026S1');
    expect(text(preview)).toContain('ADX: 2026-01-01/P6M');

    const values = within(screen.getByTestId('dhis2-values')).getAllByTestId('dhis2-value');
    const expected = (await api.dhis2Preview('pepfar_kp_prev', { from: '2026-01-01', to: '2026-06-30', sites: [], suppress: true })).values;
    expect(values).toHaveLength(expected.length);
    // By site, each its own organisation unit; indicators by their code, the name on hover.
    const sites = within(screen.getByTestId('dhis2-values')).getAllByRole('columnheader').map(text).filter((h) => h.includes('aSite'));
    expect(sites).toEqual(['Drop-in centre aSiteDropIn', 'Mobile van (north) aSiteVanNo1', 'Street outreach team aSiteStreet']);
    const total = values.find((r) => r.dataset.site === 'Drop-in centre' && text(r).includes('aKpPrevTot1'));
    expect(text(total)).toMatch(/^KP_PREV\s*Total\s*aKpPrevTot1\s*aMechanism1\s*\d+$/);
    expect(total?.querySelector('[title]')?.getAttribute('title')).toBe('KP_PREV Key populations reached with individual and/or small-group prevention interventions');
    const pwid = values.find((r) => r.dataset.site === 'Street outreach team' && text(r).includes('kp_type=pwid') && text(r).includes('known_positive'));
    expect(text(pwid)).toContain('aCocPwidKnP');
    expect(text(pwid)).toContain('aMechanism1'); // the data set's attribute option combo

    const held = within(screen.getByTestId('dhis2-held-back')).getAllByTestId('dhis2-held');
    expect(held.length).toBeGreaterThan(0);
    expect(text(held[0])).toMatch(/kp_type=(tg|msm|fsw)/);
    expect(text(held[0])).toContain('Hidden: fewer than 5 people');
    expect(text(screen.getByTestId('dhis2-value-count'))).toBe(`${values.length} values, ${held.length} held back`);
    expect(text(screen.getByTestId('dhis2-unmapped').querySelector('summary'))).toMatch(/^\d+ numbers of the set are not in the mapping and are not sent$/);

    const adx = screen.getByTestId('dhis2-download-adx') as HTMLAnchorElement;
    expect(adx.getAttribute('href')).toBe('/api/v1/dashboard/admin/dhis2/pepfar_kp_prev/export?format=adx&from=2026-01-01&to=2026-06-30&suppress=true');
    expect(adx.hasAttribute('download')).toBe(true);
    expect(screen.getByTestId('dhis2-download-json').getAttribute('href')).toContain('format=json');

    // Another period clears the preview: it no longer says what would be sent.
    await fireEvent.click(screen.getByTestId('period-kind-quarter'));
    expect(screen.getByTestId('period-2026-Q3').getAttribute('aria-pressed')).toBe('true');
    expect(screen.queryByTestId('dhis2-preview-result')).toBeNull();
  });

  it('says which sites have no organisation unit and sends nothing until they are left out', async () => {
    const { api } = await setup();
    api.dhis2Mappings.set('pepfar_kp_prev', { csv: DEMO_KP_PREV_MAPPING.replace('org_unit,Mobile van (north),,aSiteVanNo1,,\n', ''), saved_by: 'user:admin', saved_ms: NOW });
    await fireEvent.click(screen.getByTestId('dhis2-preview'));
    expect(text(await screen.findByTestId('dhis2-without-org-unit'))).toContain('No organisation unit in the mapping for: Mobile van (north).');
    expect((screen.getByTestId('dhis2-send-start') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('dhis2-dry-run') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByTestId('dhis2-download-adx')).toBeNull();

    await fireEvent.click(screen.getByTestId('site-picker'));
    const van = screen.getAllByTestId('site-option').find((o) => (o as HTMLInputElement).value === 'site-van');
    if (!van) throw new Error('no van option');
    await fireEvent.click(van);
    expect(screen.queryByTestId('dhis2-preview-result')).toBeNull();
    await fireEvent.click(screen.getByTestId('dhis2-preview'));
    await screen.findByTestId('dhis2-preview-result');
    expect(api.callsOf('dhis2Preview').at(-1)?.[1]).toMatchObject({ sites: ['site-dropin', 'site-street'] });
    expect(screen.queryByTestId('dhis2-without-org-unit')).toBeNull();
    expect(screen.getByTestId('dhis2-download-adx').getAttribute('href')).toContain('&site=site-dropin&site=site-street');
    expect((screen.getByTestId('dhis2-send-start') as HTMLButtonElement).disabled).toBe(false);
  });

  it('runs a dry run, then sends after a confirmation naming the period and the server, and sending again updates', async () => {
    const { api } = await setup();
    await fireEvent.click(screen.getByTestId('dhis2-preview'));
    await screen.findByTestId('dhis2-preview-result');
    const count = screen.getAllByTestId('dhis2-value').length;

    await fireEvent.click(screen.getByTestId('dhis2-dry-run'));
    const dry = await screen.findByTestId('dhis2-outcome');
    expect(api.callsOf('sendToDhis2')).toEqual([['pepfar_kp_prev', { from: '2026-01-01', to: '2026-06-30', suppress: true, dry_run: true }]]);
    expect(text(dry)).toContain('Result of the dry run');
    expect(text(screen.getByTestId('dhis2-outcome-status'))).toBe('SUCCESS');
    expect(text(dry)).toContain('Nothing imported');
    expect(text(screen.getByTestId('dhis2-outcome-message'))).toBe('Dry run: DHIS2 would take every value; nothing was imported.');

    await fireEvent.click(screen.getByTestId('dhis2-send-start'));
    const confirm = screen.getByTestId('dhis2-confirm');
    expect(text(confirm)).toContain(`Send ${count} values of PEPFAR MER KP_PREV for 2026S1 to https://dhis2.example.org?`);
    expect(api.callsOf('sendToDhis2')).toHaveLength(1); // nothing sent before the confirmation
    await fireEvent.click(within(confirm).getByTestId('dhis2-confirm-send'));
    await waitFor(() => expect(screen.getByTestId('dhis2-outcome').dataset.sent).toBe('true'));
    expect(api.callsOf('sendToDhis2').at(-1)).toEqual(['pepfar_kp_prev', { from: '2026-01-01', to: '2026-06-30', suppress: true, dry_run: false }]);
    expect(text(screen.getByTestId('dhis2-outcome'))).toContain('Result of the send');
    expect(text(screen.getByTestId('dhis2-imported'))).toBe(String(count));
    expect(text(screen.getByTestId('dhis2-updated'))).toBe('0');

    await fireEvent.click(screen.getByTestId('dhis2-send-start'));
    await fireEvent.click(screen.getByTestId('dhis2-confirm-send'));
    await waitFor(() => expect(text(screen.getByTestId('dhis2-updated'))).toBe(String(count)));
    expect(text(screen.getByTestId('dhis2-imported'))).toBe('0');
  });

  it("shows DHIS2's refusals: conflicts, an unreachable server, and a period the server refuses", async () => {
    const { api } = await setup();
    await fireEvent.click(screen.getByTestId('dhis2-preview'));
    await screen.findByTestId('dhis2-preview-result');

    api.dhis2Conflicts = ['aKpPrevTot1: data element is not part of the data set'];
    await fireEvent.click(screen.getByTestId('dhis2-dry-run'));
    const conflicts = await screen.findByTestId('dhis2-conflicts');
    expect(text(conflicts)).toContain('DHIS2 reported 1 conflict:');
    expect(text(conflicts)).toContain('aKpPrevTot1: data element is not part of the data set');
    expect(text(screen.getByTestId('dhis2-outcome-status'))).toBe('WARNING');

    api.dhis2Conflicts = [];
    api.dhis2Unreachable = true;
    await fireEvent.click(screen.getByTestId('dhis2-dry-run'));
    const error = await screen.findByTestId('dhis2-send-error');
    expect(within(error).getByTestId('page-error').dataset.code).toBe('upstream');
    expect(text(error)).toContain('DHIS2 could not be reached, or it refused the request.');
    expect(text(error)).toContain('connection refused');
    expect(screen.queryByTestId('dhis2-outcome')).toBeNull();

    api.failNext.dhis2Preview = new ApiError(422, 'invalid_field', 'to: the period has not ended yet', [
      { index: 0, op_seq: null, field: 'to', code: 'period_not_over', message: 'the period has not ended yet (it ends 2026-12-31): send it once it is over' },
    ]);
    await fireEvent.click(screen.getByTestId('dhis2-preview'));
    await waitFor(() => expect(text(screen.getByTestId('dhis2-send-error'))).toContain('This period is not over yet: send it once it has ended.'));
    expect(screen.queryByTestId('dhis2-preview-result')).toBeNull();
  });

  it('sends the exact figures when suppression is switched off, and says so before sending', async () => {
    const { api } = await setup();
    expect(text(screen.getByTestId('dhis2-suppress-note'))).toContain('held back and not sent');
    await fireEvent.click(screen.getByTestId('dhis2-suppress'));
    expect(text(screen.getByTestId('dhis2-suppress-note'))).toContain('The exact figures will be sent');
    await fireEvent.click(screen.getByTestId('dhis2-preview'));
    await screen.findByTestId('dhis2-preview-result');
    expect(api.callsOf('dhis2Preview').at(-1)?.[1]).toMatchObject({ suppress: false });
    expect(screen.queryByTestId('dhis2-held-back')).toBeNull();
    await fireEvent.click(screen.getByTestId('dhis2-send-start'));
    expect(text(screen.getByTestId('dhis2-confirm'))).toContain('Small numbers are not hidden: the exact figures will be sent.');
  });

  it('needs a server before sending', async () => {
    const { api, state } = await dashboardOn({ signedInAs: 'admin' });
    api.dhis2Url = null;
    renderPage(Dhis2, state);
    await fireEvent.click(await screen.findByTestId('dhis2-preview'));
    await screen.findByTestId('dhis2-preview-result');
    expect((screen.getByTestId('dhis2-send-start') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('dhis2-no-server')).toBeTruthy();
    expect(text(screen.getByTestId('dhis2-token-state'))).toContain('No token yet');
  });
});

describe('the admin pages in the navigation', () => {
  it('offers service packages to admins only, and DHIS2 sending to coordinators too', async () => {
    const admin = new FakeDashboardApi({ nowMs: NOW, signedInAs: 'admin' });
    const first = render(Dashboard, { props: { api: admin, useAddress: false, nowMs: NOW } });
    await fireEvent.click(await screen.findByTestId('nav-dhis2'));
    expect(await screen.findByTestId('page-dhis2')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('nav-packages'));
    expect(await screen.findByTestId('page-packages')).toBeTruthy();
    first.unmount();

    const coordinator = new FakeDashboardApi({ nowMs: NOW, signedInAs: 'coordinator' });
    render(Dashboard, { props: { api: coordinator, useAddress: false, nowMs: NOW } });
    await screen.findByTestId('page-indicators');
    expect(screen.queryByTestId('nav-packages')).toBeNull();
    await expect(coordinator.packages()).rejects.toMatchObject({ status: 403 });
    await fireEvent.click(screen.getByTestId('nav-dhis2'));
    expect(await screen.findByTestId('dhis2-admin-sets-up')).toBeTruthy();
    expect(screen.queryByTestId('dhis2-connection')).toBeNull();
    expect(screen.getByTestId('dhis2-send')).toBeTruthy();
    await expect(coordinator.setDhis2Connection({ url: 'https://dhis2.example.org' })).rejects.toMatchObject({ status: 403 });
  });
});
