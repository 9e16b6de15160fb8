// @vitest-environment happy-dom
import { screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { setLanguage } from '../../i18n/index.svelte';
import type { Filter } from '../logic/query';
import { ApiError, type Indicator, type IndicatorsReport } from '../api';
import { dashboardOn, renderPage } from '../testing';
import Indicators from './Indicators.svelte';

function report(filter: Filter, indicators: Indicator[]): IndicatorsReport {
  return { from: filter.from, to: filter.to, sites: [], suppression: { enabled: filter.suppress, threshold: 5 }, indicators };
}

const base = { formula: 'server formula', breakdowns: [] };

const INDICATORS: Indicator[] = [
  {
    ...base,
    key: 'people_reached',
    value: 1234,
    suppressed: false,
    unit: 'people',
    breakdowns: [
      {
        dimension: 'site',
        rows: [
          { key: 'site-dropin', value: 1230, suppressed: false },
          { key: 'site-street', value: null, suppressed: true },
        ],
      },
      { dimension: 'age_band_2', rows: [{ key: 'under_25', value: 200, suppressed: false }] },
    ],
  },
  { ...base, key: 'new_clients', value: null, suppressed: true, unit: 'people' },
  { ...base, key: 'return_rate', value: 63.44, suppressed: false, unit: 'percent' },
  { ...base, key: 'syringes_per_pwid_per_year', value: 143.27, suppressed: false, unit: 'per_pwid_year', coverage: 'medium', target: 250 },
  { ...base, key: 'vaccinations_hbv', value: 9, suppressed: false, unit: 'people', formula: 'HBV doses given, from the server' },
];

async function setup() {
  const { api, state } = await dashboardOn();
  api.indicators = async (filter) => report(filter, INDICATORS);
  renderPage(Indicators, state);
  await screen.findByTestId('indicator-people_reached');
  return { api, state };
}

const valueOf = (key: string) => within(screen.getByTestId(`indicator-${key}`)).getByTestId('indicator-value');

describe('indicators page', () => {
  it('shows each value formatted for the language, and suppressed cells as "<5" with an explanation', async () => {
    await setup();
    expect(valueOf('people_reached').textContent).toBe('1,234');
    expect(valueOf('return_rate').textContent).toBe('63.4%');
    expect(valueOf('syringes_per_pwid_per_year').textContent).toBe('143.3');
    const hidden = valueOf('new_clients');
    expect(hidden.textContent).toBe('<5');
    expect(hidden.getAttribute('title')).toBe('Fewer than 5 people: hidden so that nobody can be recognised.');
  });

  it('re-renders numbers in Russian', async () => {
    await setup();
    setLanguage('ru');
    await waitFor(() => expect(valueOf('people_reached').textContent).toMatch(/^1\s234$/));
    expect(screen.getByText('Охвачено людей', { selector: 'h3' })).toBeTruthy();
    setLanguage('en');
  });

  it("gives the guide's coverage band and the programme's own target, and explains every indicator", async () => {
    await setup();
    const card = screen.getByTestId('indicator-syringes_per_pwid_per_year');
    expect(within(card).getByTestId('coverage').textContent).toBe('Medium coverage');
    expect(within(card).getByText('Target: 250 a year')).toBeTruthy();
    expect(within(card).getByText('How is this computed?')).toBeTruthy();
    expect(within(card).getByText(/scaled to a full year/)).toBeTruthy();
    // An indicator the dashboard does not know yet keeps the server's own explanation.
    expect(within(screen.getByTestId('section-other')).getByText('HBV doses given, from the server')).toBeTruthy();
  });

  it('shows breakdowns with site names, shares of the total and hidden cells', async () => {
    await setup();
    const table = screen.getByTestId('breakdown-people_reached-site');
    const rows = within(table)
      .getAllByRole('row')
      .map((r) => [...r.children].map((c) => c.textContent?.trim()).join('|'));
    expect(rows).toEqual(['Site|Number|Share', 'Drop-in centre|1,230|100%', 'Street outreach team|<5|', 'Total|1,234|']);
    expect(within(screen.getByTestId('breakdown-people_reached-age_band_2')).getByText('Under 25')).toBeTruthy();
  });

  it('shows the error of a failed request with a way to try again', async () => {
    const { api, state } = await dashboardOn();
    let fail = true;
    api.indicators = async (filter) => {
      if (fail) throw new ApiError(403, 'forbidden', 'Site xyz is not one of yours.');
      return report(filter, INDICATORS);
    };
    renderPage(Indicators, state);
    const error = await screen.findByTestId('page-error');
    expect(error.textContent).toContain('You do not have access to this.');
    expect(error.textContent).toContain('Site xyz is not one of yours.');
    fail = false;
    within(error).getByRole('button', { name: 'Try again' }).click();
    expect(await screen.findByTestId('indicator-people_reached')).toBeTruthy();
  });

  it('puts the few numbers read first on top, and opens only the people reached until asked', async () => {
    localStorage.removeItem('outpost.dashboard.open-sections');
    await setup();
    const summary = screen.getByTestId('indicator-summary');
    expect(within(summary).getByTestId('summary-people_reached').textContent).toContain('1,234');
    expect(within(within(summary).getByTestId('summary-new_clients')).getByTestId('summary-value').textContent).toBe('<5');
    // Only indicators the report has are summarised.
    expect(within(summary).queryByTestId('summary-tests_done')).toBeNull();
    const reach = screen.getByTestId('section-reach') as HTMLDetailsElement;
    const nsp = screen.getByTestId('section-nsp') as HTMLDetailsElement;
    expect(reach.open).toBe(true);
    expect(nsp.open).toBe(false);
    expect(within(nsp).getByText('2 indicators')).toBeTruthy();
    // Opened sections are remembered in this browser.
    nsp.open = true;
    nsp.dispatchEvent(new Event('toggle'));
    await waitFor(() => expect(localStorage.getItem('outpost.dashboard.open-sections')).toBe('["reach","nsp"]'));
  });
});
