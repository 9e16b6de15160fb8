/** Helpers for dashboard component tests: a dashboard state over the in-memory fake server. */
import { render } from '@testing-library/svelte';
import type { Component } from 'svelte';
import { setLanguage } from '../i18n/index.svelte';
import { FakeDashboardApi, type FakeOptions } from './fakeApi';
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
