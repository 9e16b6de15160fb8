/**
 * Query strings of the dashboard endpoints (docs/dashboard-api.md, "Common query parameters"):
 * `from`, `to`, `site` repeated (absent = all the user's sites), `suppress`.
 */
import type { Dhis2Format, ExportFormat, ExportKind } from '../api';

export interface Filter {
  from: string;
  to: string;
  /** Site ids; empty means every site the user may see. */
  sites: string[];
  /** Small-cell suppression (on unless a coordinator switches it off). */
  suppress: boolean;
}

export function filterQuery(filter: Filter, options: { withSuppress?: boolean } = {}): string {
  const params = new URLSearchParams();
  params.set('from', filter.from);
  params.set('to', filter.to);
  for (const site of filter.sites) params.append('site', site);
  if (options.withSuppress ?? true) params.set('suppress', filter.suppress ? 'true' : 'false');
  return params.toString();
}

/** Path of a file export for the filter: a plain link works because the cookie is sent. */
export function exportUrl(kind: ExportKind, format: ExportFormat, filter: Filter): string {
  const params = new URLSearchParams();
  params.set('format', format);
  return `/api/v1/dashboard/export/${kind}?${params.toString()}&${filterQuery(filter)}`;
}

/** Path of a DHIS2 file (ADX or `dataValueSets` JSON) of an indicator set for the filter. */
export function dhis2ExportUrl(set: string, format: Dhis2Format, filter: Filter): string {
  const params = new URLSearchParams();
  params.set('format', format);
  return `/api/v1/dashboard/admin/dhis2/${encodeURIComponent(set)}/export?${params.toString()}&${filterQuery(filter)}`;
}

/** Whether two filters ask for the same data. */
export function sameFilter(a: Filter, b: Filter): boolean {
  return (
    a.from === b.from &&
    a.to === b.to &&
    a.suppress === b.suppress &&
    a.sites.length === b.sites.length &&
    a.sites.every((s, i) => s === b.sites[i])
  );
}
