// @vitest-environment happy-dom
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLanguage } from '../../i18n/index.svelte';
import Dashboard from '../Dashboard.svelte';
import { FakeDashboardApi } from '../fakeApi';
import { dashboardOn, kpPrevReport, NOW, renderPage } from '../testing';
import DonorReportPrint from './DonorReportPrint.svelte';

const OCTOBER = 'from=2026-10-01&to=2026-10-31';

async function setup(hash: string, options: { autoprint?: boolean } = {}) {
  const { api, state } = await dashboardOn();
  api.indicatorSet = async (_set, filter) => kpPrevReport(filter);
  state.applyHash(hash);
  if (options.autoprint) state.autoprint = true;
  renderPage(DonorReportPrint, state);
  const report = await screen.findByTestId('print-report');
  await waitFor(() => expect(report.dataset.ready).toBe('true'));
  return { api, state, report };
}

const block = (key: string) => screen.getByTestId(`print-indicator-${key}`);
const text = (el: Element | null) => el?.textContent?.replace(/\s+/g, ' ').trim();

afterEach(() => {
  setLanguage('en');
});

describe('the printable donor report', () => {
  it('heads the sheet with the programme, the set, the period, the sites, the source and the day printed', async () => {
    await setup(`#/donor-reports/print?set=pepfar_kp_prev&${OCTOBER}`);
    expect(text(screen.getByTestId('print-programme'))).toBe('Harm Reduction Network Chișinău');
    expect(text(screen.getByTestId('print-name'))).toBe('PEPFAR MER KP_PREV');
    expect(text(screen.getByTestId('print-period'))).toMatch(/^October 2026 \(1\s?–\s?31 October 2026\)$/);
    expect(text(screen.getByTestId('print-sites'))).toBe('Drop-in centre, Street outreach team');
    expect(screen.getByText('PEPFAR MER Indicator Reference Guide 2.6.1')).toBeTruthy();
    expect(text(screen.getByTestId('print-date'))).toBe('20 Nov 2026');
    expect(document.title).toMatch(/^PEPFAR MER KP_PREV · October 2026 · Harm Reduction Network Chișinău$/);
    // Only the report: no pickers, no filter.
    expect(screen.queryByTestId('set-picker')).toBeNull();
    expect(screen.queryByTestId('filter-bar')).toBeNull();
  });

  it('prints every number in the donor’s shape, hidden ones marked and explained', async () => {
    await setup(`#/donor-reports/print?set=pepfar_kp_prev&${OCTOBER}`);
    const kp = block('kp_prev');
    expect(text(within(kp).getByRole('heading'))).toBe('KP_PREV Key populations reached with prevention interventions');
    expect(text(within(kp).getByTestId('print-value'))).toBe('1,234');
    expect(within(kp).getByText('people')).toBeTruthy();
    expect(text(within(kp).getByText(/Distinct key-population members/))).toBe('Definition: Distinct key-population members reached in the period.');

    const oneWay = within(kp).getByTestId('print-table-kp_prev-kp_type');
    expect(within(oneWay).getByText('By Key population type')).toBeTruthy();
    expect(text(within(oneWay).getByTestId('print-cell-pwid'))).toBe('1,232');
    const hidden = within(oneWay).getByTestId('print-cell-tg');
    expect(text(hidden)).toBe('<5*');
    expect(hidden.querySelector('[data-suppressed="true"]')?.getAttribute('title')).toBe('Fewer than 5 people: hidden so that nobody can be recognised.');

    const grid = within(kp).getByTestId('print-table-kp_prev-kp_type-testing_status');
    expect(within(grid).getByText('By Key population type and Testing services')).toBeTruthy();
    const rows = within(grid)
      .getAllByRole('row')
      .map((r) => [...r.children].map((c) => text(c)).join('|'));
    expect(rows).toEqual([
      'Key population type|Testing services',
      'Known positive|Newly tested and/or referred for testing|Declined',
      'PWID|47|1,185|0',
      'TG|<5*|<5*|0',
    ]);
    expect(text(within(grid).getByTestId('print-cell-pwid-newly_tested_or_referred'))).toBe('1,185');
    expect(within(grid).getByTestId('print-cell-tg-known_positive').querySelector('[data-suppressed="true"]')).toBeTruthy();

    expect(text(within(block('pwid_coverage')).getByTestId('print-value'))).toBe('0.2%');
    expect(text(within(block('pwid_coverage')).getByTestId('print-ratio'))).toBe('3 of 2,000');
    const rate = block('syringes_per_pwid');
    expect(text(within(rate).getByTestId('print-value'))).toBe('143.3');
    expect(within(rate).getByText('per person per year')).toBeTruthy();
    expect(text(within(rate).getByTestId('print-coverage'))).toBe('Medium coverage');
    expect(text(within(rate).getByTestId('print-target'))).toBe('Target: 250 a year');
    expect(text(within(block('tg_reached')).getByTestId('print-value'))).toBe('<5*');

    expect(within(screen.getByTestId('print-notes')).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'Each person counts in one key-population type only.',
      "The 'declined' row is always 0.",
    ]);
    const footnote = screen.getByTestId('print-footnote');
    expect(footnote.dataset.suppression).toBe('on');
    expect(text(footnote)).toBe(
      '<5*: a count of 1 to 4 people, tests or referrals, hidden so that nobody can be recognised; cells and percentages that would let a hidden number be worked out are hidden too.',
    );
    expect(screen.queryByTestId('print-exact-note')).toBeNull();
  });

  it('says the figures are exact when small numbers are shown', async () => {
    await setup(`#/donor-reports/print?set=pepfar_kp_prev&${OCTOBER}&suppress=false`);
    const footnote = screen.getByTestId('print-footnote');
    expect(footnote.dataset.suppression).toBe('off');
    expect(text(footnote)).toMatch(/^Exact figures: small numbers are not hidden \(suppression off\)\./);
    expect(text(screen.getByTestId('print-exact-note'))).toBe(text(footnote));
  });

  it('asks the server for the set and filter in the address, the first donor set when it names none', async () => {
    const { api, state } = await dashboardOn();
    state.applyHash(`#/donor-reports/print?site=site-dropin&${OCTOBER}&suppress=false`);
    renderPage(DonorReportPrint, state);
    const report = await screen.findByTestId('print-report');
    expect(report.dataset.set).toBe('who_nsp');
    expect(api.callsOf('indicatorSet')).toEqual([['who_nsp', { from: '2026-10-01', to: '2026-10-31', sites: ['site-dropin'], suppress: false }]]);
    // The fake's organisation and its one site.
    expect(text(screen.getByTestId('print-programme'))).toBe('Demo harm reduction programme');
    expect(text(screen.getByTestId('print-sites'))).toBe('Drop-in centre');
    const gender = within(block('pwid_reached')).getByTestId('print-table-pwid_reached-gender');
    expect(within(gender).getAllByRole('row').map((r) => text(r.firstElementChild))).toEqual(['Gender', 'Female', 'Male', 'Other']);
  });

  it('names the period in the reader’s language', async () => {
    await setup(`#/donor-reports/print?set=pepfar_kp_prev&from=2025-10-01&to=2026-03-31`);
    expect(text(screen.getByTestId('print-period'))).toMatch(/^Fiscal year 2026, H1 \(1 October 2025\s?–\s?31 March 2026\)$/);
    setLanguage('ru');
    await waitFor(() => expect(text(screen.getByTestId('print-period'))).toMatch(/^1 полугодие 2026 финансового года \(/));
    expect(text(within(block('kp_prev')).getByTestId('print-value'))).toMatch(/^1\s234$/);
  });

  it('opens the print dialog once the report is shown, when asked to', async () => {
    const print = vi.fn();
    window.print = print; // happy-dom has no print dialog
    const { api, state } = await setup(`#/donor-reports/print?set=pepfar_kp_prev&${OCTOBER}`, { autoprint: true });
    await waitFor(() => expect(print).toHaveBeenCalledTimes(1));
    expect(state.autoprint).toBe(false);
    // A report read again (another filter) is not printed again.
    api.indicatorSet = async (_set, filter) => ({ ...kpPrevReport(filter), name: 'Again' });
    state.chooseSites(['site-dropin']);
    await waitFor(() => expect(text(screen.getByTestId('print-name'))).toBe('Again'));
    expect(print).toHaveBeenCalledTimes(1);
    // Printed by hand from the bar above the sheet.
    await fireEvent.click(screen.getByTestId('print-now'));
    expect(print).toHaveBeenCalledTimes(2);
  });
});

describe('the dashboard with a printable report in the address', () => {
  it('draws the report alone, and goes back to the page', async () => {
    history.replaceState(null, '', `#/donor-reports/print?set=pepfar_kp_prev&${OCTOBER}&suppress=false`);
    setLanguage('en');
    render(Dashboard, { props: { api: new FakeDashboardApi({ nowMs: NOW, signedInAs: 'coordinator' }), nowMs: NOW } });
    const report = await screen.findByTestId('print-report');
    expect(report.dataset.set).toBe('pepfar_kp_prev');
    expect(screen.queryByTestId('nav-indicators')).toBeNull();
    expect(screen.queryByTestId('filter-bar')).toBeNull();
    expect(screen.queryByTestId('page-title')).toBeNull();

    await fireEvent.click(screen.getByTestId('print-back'));
    expect(await screen.findByTestId('page-donor-reports')).toBeTruthy();
    expect(screen.getByTestId('nav-indicators')).toBeTruthy();
    await waitFor(() => expect(location.hash).toBe(`#/donor-reports?set=pepfar_kp_prev&${OCTOBER}&suppress=false`));
    history.replaceState(null, '', '#');
  });
});
