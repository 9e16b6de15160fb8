/**
 * The address of a dashboard view: `#/<page>?from=…&to=…&site=…&suppress=false`. The filter
 * goes into the address when it differs from the default (this month, all sites, suppression
 * on), so a coordinator can bookmark or share a report view and a reload keeps it; the donor
 * reports page adds its indicator set (`set=pepfar_kp_prev`), and its printable report is
 * `#/donor-reports/print?set=…&from=…` (`&autoprint=1` opens the browser's print dialog once
 * the report is shown; it is never written back). Pure functions; the hash is used so the
 * server only has to serve one page.
 */
import { isValidIsoDate } from '../../lib/logic/dates';
import { matchingPreset, periodProblem, presetPeriod, wholeMonths, type Preset } from './period';
import type { Filter } from './query';

export const PAGES = ['indicators', 'donor-reports', 'stock', 'surveys', 'forms', 'devices', 'sites', 'catalogue', 'packages', 'users', 'conflicts', 'duplicates', 'exports', 'dhis2', 'audit'] as const;

/** Pages only admins see (an address can still name them; the dashboard then shows the indicators). */
export const ADMIN_PAGES: readonly Page[] = ['packages', 'users', 'audit'];
export type Page = (typeof PAGES)[number];

export interface Route {
  page: Page;
  filter: Filter;
  preset: Preset;
  /** The donor reports page's indicator set, when the address names one. */
  set?: string;
  /** The printable report of the donor reports page (`#/donor-reports/print`). */
  print?: true;
  /** Open the print dialog once the printable report is shown (`autoprint=1`). */
  autoprint?: true;
}

/** The printable report's path under the donor reports page. */
const PRINT_PATH = 'donor-reports/print';

/** What an indicator set's key looks like (the server's short snake_case words). */
const SET_KEY = /^[A-Za-z0-9_]{1,64}$/;

export function defaultFilter(today: string): Filter {
  return { ...presetPeriod('this_month', today), sites: [], suppress: true };
}

/** Reads a location hash; anything unreadable falls back to the default. */
export function parseRoute(hash: string, today: string): Route {
  const trimmed = hash.replace(/^#\/?/, '');
  const [rawPath, query = ''] = trimmed.split('?', 2);
  const print = rawPath === PRINT_PATH;
  const path = print ? 'donor-reports' : rawPath;
  const page = (PAGES as readonly string[]).includes(path) ? (path as Page) : 'indicators';
  const params = new URLSearchParams(query);
  const filter = defaultFilter(today);
  const from = params.get('from');
  const to = params.get('to');
  if (from && to && isValidIsoDate(from) && isValidIsoDate(to) && periodProblem({ from, to }) === null) {
    filter.from = from;
    filter.to = to;
  }
  filter.sites = params.getAll('site').filter((s) => s.length > 0 && s.length <= 100);
  filter.suppress = params.get('suppress') !== 'false';
  if (filter.suppress) Object.assign(filter, wholeMonths(filter, today));
  const route: Route = { page, filter, preset: matchingPreset(filter, today) };
  const set = params.get('set');
  if (page === 'donor-reports' && set && SET_KEY.test(set)) route.set = set;
  if (print) route.print = true;
  if (print && params.get('autoprint') === '1') route.autoprint = true;
  return route;
}

/**
 * The hash for a page and filter (the filter only where it differs from the default), and the
 * donor reports page's set; with `print`, the donor reports' printable report.
 */
export function formatRoute(page: Page, filter: Filter, today: string, options: { set?: string | null; print?: boolean } = {}): string {
  const params = new URLSearchParams();
  if (page === 'donor-reports' && options.set) params.set('set', options.set);
  const fallback = defaultFilter(today);
  if (filter.from !== fallback.from || filter.to !== fallback.to) {
    params.set('from', filter.from);
    params.set('to', filter.to);
  }
  for (const site of filter.sites) params.append('site', site);
  if (!filter.suppress) params.set('suppress', 'false');
  const query = params.toString();
  const path = page === 'donor-reports' && options.print ? PRINT_PATH : page;
  return `#/${path}${query ? `?${query}` : ''}`;
}
