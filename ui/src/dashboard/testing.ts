/** Helpers for dashboard component tests: a dashboard state over the in-memory fake server. */
import { render } from '@testing-library/svelte';
import type { Component } from 'svelte';
import { setLanguage } from '../i18n/index.svelte';
import type { SetReport } from './api';
import { FakeDashboardApi, type FakeOptions } from './fakeApi';
import type { Filter } from './logic/query';
import { dashboardContext, DashboardState } from './state.svelte';

/** 20 November 2026, noon UTC: "this month" is November, "last month" October. */
export const NOW = Date.UTC(2026, 10, 20, 12);

export async function dashboardOn(options: FakeOptions = { signedInAs: 'coordinator' }) {
  const api = new FakeDashboardApi({ nowMs: NOW, ...options });
  const state = new DashboardState(api, { nowMs: NOW });
  setLanguage('en');
  await state.start();
  return { api, state };
}

export function renderPage(component: Component, state: DashboardState) {
  return render(component as Component<Record<string, unknown>>, { props: {}, context: dashboardContext(state) });
}

/** A KP_PREV report as the server sends it: a one-way and a two-way table, small cells hidden. */
export function kpPrevReport(filter: Filter): SetReport {
  return {
    programme: 'Harm Reduction Network Chișinău',
    set: 'pepfar_kp_prev',
    name: 'PEPFAR MER KP_PREV',
    source: 'PEPFAR MER Indicator Reference Guide 2.6.1',
    notes: ['Each person counts in one key-population type only.', "The 'declined' row is always 0."],
    from: filter.from,
    to: filter.to,
    sites: [
      { key: 'site-dropin', label: 'Drop-in centre' },
      { key: 'site-street', label: 'Street outreach team' },
    ],
    suppression: { enabled: filter.suppress, threshold: 5 },
    dimensions: [
      { key: 'kp_type', kind: 'categories', label: 'Key population type', categories: [{ key: 'pwid', label: 'PWID' }, { key: 'tg', label: 'TG' }] },
      {
        key: 'testing_status',
        kind: 'categories',
        label: 'Testing services',
        categories: [
          { key: 'known_positive', label: 'Known positive' },
          { key: 'newly_tested_or_referred', label: 'Newly tested and/or referred for testing' },
          { key: 'declined', label: 'Declined' },
        ],
      },
    ],
    indicators: [
      {
        key: 'kp_prev',
        code: 'KP_PREV',
        name: 'Key populations reached with prevention interventions',
        definition: 'Distinct key-population members reached in the period.',
        unit: 'people',
        value: 1234,
        suppressed: false,
        tables: [
          {
            dimensions: ['kp_type'],
            cells: [
              { keys: ['pwid'], value: 1232, suppressed: false },
              { keys: ['tg'], value: null, suppressed: true },
            ],
          },
          {
            dimensions: ['kp_type', 'testing_status'],
            cells: [
              { keys: ['pwid', 'known_positive'], value: 47, suppressed: false },
              { keys: ['pwid', 'newly_tested_or_referred'], value: 1185, suppressed: false },
              { keys: ['pwid', 'declined'], value: 0, suppressed: false },
              { keys: ['tg', 'known_positive'], value: null, suppressed: true },
              { keys: ['tg', 'newly_tested_or_referred'], value: null, suppressed: true },
              { keys: ['tg', 'declined'], value: 0, suppressed: false },
            ],
          },
        ],
      },
      {
        key: 'pwid_coverage',
        name: 'PWID reached (% of estimate)',
        definition: 'PWID reached divided by the estimate.',
        unit: 'percent',
        value: 0.2,
        suppressed: false,
        numerator: 3,
        denominator: 2000,
        tables: [],
      },
      {
        key: 'syringes_per_pwid',
        code: 'PRV.10',
        name: 'Needle-syringes per PWID per year',
        definition: 'Needle-syringes divided by the PWID estimate, scaled to a year.',
        unit: 'per_pwid_year',
        value: 143.27,
        suppressed: false,
        coverage: 'medium',
        target: 250,
        tables: [],
      },
      { key: 'tg_reached', name: 'TG reached', definition: 'Transgender people reached.', unit: 'people', value: null, suppressed: true, tables: [] },
    ],
  };
}
