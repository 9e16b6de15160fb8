import { mount } from 'svelte';
import '../choices.css';
import './dashboard.css';
import Dashboard from './Dashboard.svelte';
import { HttpDashboardApi, type DashboardApi } from './api';
import { setLanguage } from '../i18n/index.svelte';
import { initialLanguage, storedLanguage } from './state.svelte';

/**
 * The coordinators' dashboard, served by `outpost-server` under `/dashboard/` and talking to
 * `/api/v1` on the same origin. During development (`npm run dev:dashboard`) `?fake` runs it
 * on the in-memory fake server instead (accounts in `fakeApi.ts`, e.g. coordinator /
 * "correct horse"); the fake is left out of production builds.
 */
async function start(target: HTMLElement) {
  setLanguage(initialLanguage(storedLanguage(), navigator.languages ?? [navigator.language]));
  let api: DashboardApi = new HttpDashboardApi();
  if (import.meta.env.DEV && new URLSearchParams(location.search).has('fake')) {
    const { FakeDashboardApi } = await import('./fakeApi');
    api = new FakeDashboardApi({ delayMs: 250 });
  }
  mount(Dashboard, { target, props: { api } });
}

const target = document.getElementById('app');
if (!target) throw new Error('no #app element');
void start(target);
