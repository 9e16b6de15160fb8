import { describe, expect, it } from 'vitest';
import { ADMIN_PAGES, formatRoute, PAGES, parseRoute } from './route';

const today = '2026-11-15';

describe('addresses', () => {
  it('are short for the default view', () => {
    expect(formatRoute('indicators', { from: '2026-11-01', to: '2026-11-15', sites: [], suppress: true }, today)).toBe('#/indicators');
  });

  it('carry a changed filter and read it back', () => {
    const filter = { from: '2026-10-01', to: '2026-10-31', sites: ['s1', 's2'], suppress: false };
    const hash = formatRoute('exports', filter, today);
    expect(hash).toBe('#/exports?from=2026-10-01&to=2026-10-31&site=s1&site=s2&suppress=false');
    expect(parseRoute(hash, today)).toEqual({ page: 'exports', filter, preset: 'last_month' });
  });

  it('fall back to the default for anything unreadable', () => {
    expect(parseRoute('', today)).toEqual({
      page: 'indicators',
      filter: { from: '2026-11-01', to: '2026-11-15', sites: [], suppress: true },
      preset: 'this_month',
    });
    expect(parseRoute('#/nowhere?from=2026-13-01&to=2026-10-31', today).page).toBe('indicators');
    expect(parseRoute('#/stock?from=2026-11-01&to=2026-10-01', today).filter.from).toBe('2026-11-01');
    expect(parseRoute('#/stock?from=2026-09-01&to=2026-09-10', today).preset).toBe('custom');
  });
});

describe('the donor reports address', () => {
  it('carries the indicator set before the filter', () => {
    const filter = { from: '2026-07-01', to: '2026-09-30', sites: [], suppress: true };
    const hash = formatRoute('donor-reports', filter, today, { set: 'pepfar_kp_prev' });
    expect(hash).toBe('#/donor-reports?set=pepfar_kp_prev&from=2026-07-01&to=2026-09-30');
    expect(parseRoute(hash, today)).toEqual({ page: 'donor-reports', filter, preset: 'last_quarter', set: 'pepfar_kp_prev' });
    // Only that page has a set; a malformed one is left out.
    expect(formatRoute('indicators', filter, today, { set: 'who_nsp' })).toBe('#/indicators?from=2026-07-01&to=2026-09-30');
    expect(parseRoute('#/donor-reports?set=no%20such', today).set).toBeUndefined();
    expect(parseRoute('#/indicators?set=who_nsp', today).set).toBeUndefined();
  });
});

describe('the printable donor report’s address', () => {
  it('is the donor reports page’s, under /print', () => {
    const filter = { from: '2026-10-01', to: '2026-10-31', sites: ['s1'], suppress: false };
    const hash = formatRoute('donor-reports', filter, today, { set: 'who_nsp', print: true });
    expect(hash).toBe('#/donor-reports/print?set=who_nsp&from=2026-10-01&to=2026-10-31&site=s1&suppress=false');
    expect(parseRoute(hash, today)).toEqual({ page: 'donor-reports', filter, preset: 'last_month', set: 'who_nsp', print: true });
    // Only the donor reports page prints this way.
    expect(formatRoute('indicators', filter, today, { print: true })).toBe('#/indicators?from=2026-10-01&to=2026-10-31&site=s1&suppress=false');
    expect(parseRoute('#/indicators/print', today)).toMatchObject({ page: 'indicators' });
    expect(parseRoute('#/indicators/print', today).print).toBeUndefined();
  });

  it('opens the print dialog only when it says so, and never writes that back', () => {
    expect(parseRoute('#/donor-reports/print?set=who_nsp&autoprint=1', today)).toMatchObject({ print: true, autoprint: true });
    expect(parseRoute('#/donor-reports/print?set=who_nsp&autoprint=0', today).autoprint).toBeUndefined();
    expect(parseRoute('#/donor-reports?set=who_nsp&autoprint=1', today).autoprint).toBeUndefined();
    const route = parseRoute('#/donor-reports/print?set=who_nsp&autoprint=1', today);
    expect(formatRoute(route.page, route.filter, today, { set: route.set, print: route.print })).toBe('#/donor-reports/print?set=who_nsp');
  });
});

describe('the admin pages’ addresses', () => {
  it('name the DHIS2 and service packages pages, which only admins see', () => {
    const filter = { from: '2026-11-01', to: '2026-11-15', sites: [], suppress: true };
    expect(formatRoute('dhis2', filter, today)).toBe('#/dhis2');
    expect(parseRoute('#/dhis2', today).page).toBe('dhis2');
    expect(parseRoute('#/packages', today).page).toBe('packages');
    expect(ADMIN_PAGES).toEqual(['packages', 'users', 'audit']);
    expect(ADMIN_PAGES.every((p) => PAGES.includes(p))).toBe(true);
  });
});
