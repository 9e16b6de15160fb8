// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { setLanguage } from '../../i18n/index.svelte';
import { ApiError } from '../api';
import { dashboardOn, kpPrevReport, renderPage } from '../testing';
import DonorReports from './DonorReports.svelte';

async function setup(hash?: string) {
  const { api, state } = await dashboardOn();
  if (hash) state.applyHash(hash);
  renderPage(DonorReports, state);
  return { api, state };
}

const block = (key: string) => screen.getByTestId(`set-indicator-${key}`);
const lastCall = (api: Awaited<ReturnType<typeof setup>>['api']) => api.callsOf('indicatorSet').at(-1);

describe('donor reports page', () => {
  it('opens on the first donor set for the last period of its cadence', async () => {
    const { api, state } = await setup();
    // 20 November 2026; WHO's set is yearly: 2025.
    expect(await screen.findByTestId('donor-report')).toBeTruthy();
    expect(api.callsOf('indicatorSet')).toEqual([['who_nsp', { from: '2025-01-01', to: '2025-12-31', sites: [], suppress: true }]]);
    expect((screen.getByTestId('set-picker') as HTMLSelectElement).value).toBe('who_nsp');
    expect(screen.getByTestId('period-kind-year').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('period-2025').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('report-name').textContent).toBe('WHO NSP coverage (WHO/UNODC/UNAIDS technical guide)');
    expect(screen.getByTestId('report-sites').textContent).toBe('Drop-in centre, Street outreach team');
    // The fake's yearly needle-syringes per PWID, with its band and the programme's target.
    expect(within(block('syringes_per_pwid_per_year')).getByText('PRV.10')).toBeTruthy();
    expect(within(block('syringes_per_pwid_per_year')).getByText('Target: 300 a year')).toBeTruthy();
    expect(state.hash()).toBe('#/indicators?from=2025-01-01&to=2025-12-31');
    state.page = 'donor-reports';
    expect(state.hash()).toBe('#/donor-reports?set=who_nsp&from=2025-01-01&to=2025-12-31');
  });

  it('keeps the set and a period named in the address', async () => {
    const { api } = await setup('#/donor-reports?set=global_fund&from=2026-07-01&to=2026-09-30');
    await screen.findByTestId('donor-report');
    expect(api.callsOf('indicatorSet')).toEqual([['global_fund', { from: '2026-07-01', to: '2026-09-30', sites: [], suppress: true }]]);
    expect(screen.getByTestId('period-kind-quarter').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('period-2026-Q3').getAttribute('aria-pressed')).toBe('true');
  });

  it('follows the set’s cadence until a period is chosen, and offers PEPFAR’s fiscal half-years', async () => {
    const { api } = await setup();
    await screen.findByTestId('donor-report');
    await fireEvent.change(screen.getByTestId('set-picker'), { target: { value: 'pepfar_kp_prev' } });
    await waitFor(() => expect(lastCall(api)).toEqual(['pepfar_kp_prev', { from: '2026-01-01', to: '2026-06-30', sites: [], suppress: true }]));
    expect(screen.getByTestId('period-FY2026-H2').textContent).toMatch(/^Apr.*Sept? 2026$/);
    await fireEvent.click(screen.getByTestId('period-FY2026-H2'));
    await waitFor(() => expect(lastCall(api)?.[1]).toMatchObject({ from: '2026-04-01', to: '2026-09-30' }));

    await fireEvent.click(screen.getByTestId('period-kind-quarter'));
    await waitFor(() => expect(lastCall(api)?.[1]).toMatchObject({ from: '2026-07-01', to: '2026-09-30' }));
    expect(screen.getByTestId('period-2026-Q4').hasAttribute('disabled')).toBe(false); // running: up to today
    await fireEvent.change(screen.getByTestId('period-year'), { target: { value: '2024' } });
    await waitFor(() => expect(lastCall(api)?.[1]).toMatchObject({ from: '2024-07-01', to: '2024-09-30' }));

    // A chosen period stays when the set changes.
    await fireEvent.change(screen.getByTestId('set-picker'), { target: { value: 'global_fund' } });
    await waitFor(() => expect(lastCall(api)).toEqual(['global_fund', { from: '2024-07-01', to: '2024-09-30', sites: [], suppress: true }]));

    await fireEvent.click(screen.getByTestId('period-kind-month'));
    await fireEvent.change(screen.getByTestId('period-year'), { target: { value: '2026' } });
    expect(screen.getByTestId('period-2026-12').hasAttribute('disabled')).toBe(true); // not begun
    await fireEvent.click(screen.getByTestId('period-2026-11'));
    await waitFor(() => expect(lastCall(api)?.[1]).toMatchObject({ from: '2026-11-01', to: '2026-11-20' }));
    expect(screen.getByTestId('period-chosen').textContent).toContain('Not over yet');
  });

  it('shows values, a two-way table and hidden cells in the donor’s shape', async () => {
    const { api, state } = await dashboardOn();
    api.indicatorSet = async (_set, filter) => kpPrevReport(filter);
    renderPage(DonorReports, state);
    await screen.findByTestId('donor-report');

    const kp = block('kp_prev');
    expect(within(kp).getByText('KP_PREV')).toBeTruthy();
    expect(within(kp).getByTestId('set-value').textContent).toBe('1,234');
    expect(within(kp).getByText('people')).toBeTruthy();
    expect(within(kp).getByText('Distinct key-population members reached in the period.')).toBeTruthy();

    const oneWay = within(kp).getByTestId('set-table-kp_prev-kp_type');
    expect(within(oneWay).getByText('By Key population type')).toBeTruthy();
    expect(within(oneWay).getByTestId('cell-pwid').textContent).toBe('1,232');
    const hiddenRow = within(oneWay).getByTestId('cell-tg');
    expect(hiddenRow.textContent).toBe('<5Suppressed');
    expect(hiddenRow.querySelector('[data-suppressed="true"]')?.getAttribute('title')).toBe('Fewer than 5 people: hidden so that nobody can be recognised.');

    const grid = within(kp).getByTestId('set-table-kp_prev-kp_type-testing_status');
    expect(within(grid).getByText('By Key population type and Testing services')).toBeTruthy();
    const rows = within(grid)
      .getAllByRole('row')
      .map((r) => [...r.children].map((c) => c.textContent?.trim()).join('|'));
    expect(rows).toEqual([
      '|Testing services',
      'Key population type|Known positive|Newly tested and/or referred for testing|Declined',
      'PWID|47|1,185|0',
      'TG|<5Suppressed|<5Suppressed|0',
    ]);
    expect(within(grid).getByTestId('cell-pwid-newly_tested_or_referred').textContent).toBe('1,185');
    expect(within(grid).getByTestId('cell-tg-known_positive').querySelector('[data-suppressed="true"]')).toBeTruthy();

    expect(within(block('pwid_coverage')).getByTestId('set-value').textContent).toBe('0.2%');
    expect(within(block('pwid_coverage')).getByTestId('set-ratio').textContent).toBe('3 of 2,000');
    const rate = block('syringes_per_pwid');
    expect(within(rate).getByTestId('set-value').textContent).toBe('143.3');
    expect(within(rate).getByTestId('set-coverage').textContent).toBe('Medium coverage');
    expect(within(rate).getByText('Target: 250 a year')).toBeTruthy();
    expect(within(block('tg_reached')).getByTestId('set-value').textContent).toBe('<5');

    expect(within(screen.getByTestId('set-notes')).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'Each person counts in one key-population type only.',
      "The 'declined' row is always 0.",
    ]);
    expect(screen.getByTestId('suppression-footnote').textContent).toMatch(/^<5 marks a hidden number/);
  });

  it('opens the printable report of what it shows, to be printed', async () => {
    const { state } = await setup('#/donor-reports?set=pepfar_kp_prev&from=2026-10-01&to=2026-10-31&suppress=false');
    await screen.findByTestId('donor-report');
    await fireEvent.click(screen.getByTestId('report-print'));
    expect(state.printView).toBe(true);
    expect(state.autoprint).toBe(true);
    expect(state.hash()).toBe('#/donor-reports/print?set=pepfar_kp_prev&from=2026-10-01&to=2026-10-31&suppress=false');
    state.closePrintView();
    expect(state.hash()).toBe('#/donor-reports?set=pepfar_kp_prev&from=2026-10-01&to=2026-10-31&suppress=false');
  });

  it('translates its own words but keeps the donor’s terms', async () => {
    const { api, state } = await dashboardOn();
    api.indicatorSet = async (_set, filter) => kpPrevReport(filter);
    renderPage(DonorReports, state);
    await screen.findByTestId('donor-report');
    setLanguage('ru');
    const kp = block('kp_prev');
    await waitFor(() => expect(within(kp).getByTestId('set-value').textContent).toMatch(/^1\s234$/));
    expect(within(kp).getByText('Определение')).toBeTruthy();
    expect(within(kp).getByText('Known positive')).toBeTruthy();
    expect(screen.getByText('Примечания')).toBeTruthy();
    setLanguage('en');
  });

  it('shows the server’s refusal with a way to try again, and warns when small numbers are shown', async () => {
    const { api, state } = await dashboardOn();
    api.failNext.indicatorSet = new ApiError(400, 'invalid_query', 'from: the period starts in the future (2027-01-01)');
    renderPage(DonorReports, state);
    const error = await screen.findByTestId('page-error');
    expect(error.textContent).toContain('The server did not accept the filter.');
    expect(error.textContent).toContain('from: the period starts in the future (2027-01-01)');
    expect(screen.queryByTestId('donor-report')).toBeNull();
    within(error).getByRole('button', { name: 'Try again' }).click();
    expect(await screen.findByTestId('donor-report')).toBeTruthy();

    state.chooseSuppress(false);
    await waitFor(() => expect(lastCall(api)?.[1]).toMatchObject({ suppress: false }));
    expect(await screen.findByText(/Small numbers are shown/)).toBeTruthy();
    expect(screen.queryByTestId('suppression-footnote')).toBeNull();
  });
});
