import { describe, expect, it } from 'vitest';
import { exportUrl, filterQuery, sameFilter, type Filter } from './query';

const october: Filter = { from: '2026-10-01', to: '2026-10-31', sites: [], suppress: true };

describe('query strings', () => {
  it('send the period and suppression, and no site for "all sites"', () => {
    expect(filterQuery(october)).toBe('from=2026-10-01&to=2026-10-31&suppress=true');
  });

  it('repeat site for each chosen site and encode ids', () => {
    const q = filterQuery({ ...october, sites: ['a b', 'c&d'], suppress: false });
    expect(q).toBe('from=2026-10-01&to=2026-10-31&site=a+b&site=c%26d&suppress=false');
    expect(new URLSearchParams(q).getAll('site')).toEqual(['a b', 'c&d']);
  });

  it('can leave suppression out (survey results have none)', () => {
    expect(filterQuery(october, { withSuppress: false })).toBe('from=2026-10-01&to=2026-10-31');
  });

  it('build export links with the format and the filter', () => {
    expect(exportUrl('contacts', 'csv', { ...october, sites: ['s1'] })).toBe(
      '/api/v1/dashboard/export/contacts?format=csv&from=2026-10-01&to=2026-10-31&site=s1&suppress=true',
    );
    expect(exportUrl('indicators', 'xlsx', october)).toMatch(/^\/api\/v1\/dashboard\/export\/indicators\?format=xlsx&/);
  });

  it('compare filters by value', () => {
    expect(sameFilter(october, { ...october })).toBe(true);
    expect(sameFilter(october, { ...october, sites: ['x'] })).toBe(false);
    expect(sameFilter(october, { ...october, suppress: false })).toBe(false);
  });
});
