import { describe, expect, it } from 'vitest';
import { ApiError, HttpDashboardApi, parseRetryAfter } from './api';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  credentials: RequestCredentials | undefined;
}

/** A request's body: its JSON, or its text when it is not JSON (a CSV file). */
function readBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A fetch that records requests and answers from a list, in order. */
function fakeFetch(answers: (Response | Error)[]) {
  const sent: Sent[] = [];
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit) => {
    sent.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? readBody(String(init.body)) : undefined,
      credentials: init?.credentials,
    });
    const next = answers.shift();
    if (!next) throw new Error('no answer left');
    if (next instanceof Error) throw next;
    return next;
  };
  return { sent, fetchFn: fetchFn as typeof fetch };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
const error = (status: number, code: string, headers: Record<string, string> = {}) =>
  json(status, { code, message: `${code} message`, details: [] }, headers);

const user = { id: 'u1', username: 'coordinator', role: 'coordinator', sites: [], totp: false };

describe('the dashboard API client', () => {
  it('logs in with the session cookie and sends the CSRF token on every POST', async () => {
    const { sent, fetchFn } = fakeFetch([
      json(200, { user, csrf_token: 'tok-1' }),
      json(200, { id: 12, resolution: 'reverted' }),
      new Response(null, { status: 204 }),
    ]);
    const api = new HttpDashboardApi({ fetch: fetchFn });
    await api.login({ username: 'coordinator', password: 'pw' });
    // Conflicts are numbered (the server's `ConflictView.id`); the number is the path segment.
    expect(await api.resolveConflict(12, 'revert')).toMatchObject({ id: 12, resolution: 'reverted' });
    await api.logout();
    expect(sent.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /api/v1/auth/login',
      'POST /api/v1/dashboard/conflicts/12/resolve',
      'POST /api/v1/auth/logout',
    ]);
    expect(sent.every((s) => s.credentials === 'same-origin')).toBe(true);
    expect(sent[0].body).toEqual({ username: 'coordinator', password: 'pw' });
    expect(sent[0].headers['X-CSRF-Token']).toBeUndefined();
    expect(sent[1].headers['X-CSRF-Token']).toBe('tok-1');
    expect(sent[1].body).toEqual({ action: 'revert' });
    expect(sent[2].headers['X-CSRF-Token']).toBe('tok-1');
    expect(api.csrf).toBeNull();
  });

  it('sends the second-factor code only when there is one', async () => {
    const { sent, fetchFn } = fakeFetch([error(401, 'totp_required'), json(200, { user, csrf_token: 't' })]);
    const api = new HttpDashboardApi({ fetch: fetchFn });
    await expect(api.login({ username: 'a', password: 'b', totp: '' })).rejects.toMatchObject({ status: 401, code: 'totp_required' });
    await api.login({ username: 'a', password: 'b', totp: '123456' });
    expect(sent.map((s) => s.body)).toEqual([
      { username: 'a', password: 'b' },
      { username: 'a', password: 'b', totp: '123456' },
    ]);
  });

  it('reads Retry-After on 429 rate_limited', async () => {
    const { fetchFn } = fakeFetch([error(429, 'rate_limited', { 'Retry-After': '42' })]);
    const failure = await new HttpDashboardApi({ fetch: fetchFn }).login({ username: 'a', password: 'b' }).catch((e) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 429, code: 'rate_limited', message: 'rate_limited message', retryAfterSeconds: 42 });
  });

  it('turns an unreachable server into a network error and a foreign answer into http_<status>', async () => {
    const { fetchFn } = fakeFetch([new TypeError('Failed to fetch'), new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })]);
    const api = new HttpDashboardApi({ fetch: fetchFn });
    await expect(api.sites()).rejects.toMatchObject({ code: 'network', status: 0 });
    await expect(api.sites()).rejects.toMatchObject({ code: 'http_502', status: 502, message: 'Bad Gateway' });
  });

  it('reports a lost session from dashboard requests, but not from login or me', async () => {
    const { fetchFn } = fakeFetch([error(401, 'not_logged_in'), error(401, 'session_expired'), error(401, 'login_failed')]);
    const lost: string[] = [];
    const api = new HttpDashboardApi({ fetch: fetchFn, onSignedOut: (e) => lost.push(e.code) });
    await expect(api.me()).rejects.toMatchObject({ code: 'not_logged_in' });
    await expect(api.devices()).rejects.toMatchObject({ code: 'session_expired' });
    await expect(api.login({ username: 'a', password: 'b' })).rejects.toMatchObject({ code: 'login_failed' });
    expect(lost).toEqual(['session_expired']);
  });

  it('fetches a fresh CSRF token once when the server refuses the old one', async () => {
    const { sent, fetchFn } = fakeFetch([
      json(200, { user, csrf_token: 'old' }),
      error(403, 'csrf_failed'),
      json(200, { user, csrf_token: 'new' }),
      json(200, { id: 7 }),
    ]);
    const api = new HttpDashboardApi({ fetch: fetchFn });
    await api.me();
    await api.resolveConflict(7, 'accept');
    expect(sent.map((s) => [s.url, s.headers['X-CSRF-Token'] ?? null])).toEqual([
      ['/api/v1/auth/me', null],
      ['/api/v1/dashboard/conflicts/7/resolve', 'old'],
      ['/api/v1/auth/me', null],
      ['/api/v1/dashboard/conflicts/7/resolve', 'new'],
    ]);
  });

  it('puts the filter in the query of every report', async () => {
    const { sent, fetchFn } = fakeFetch([json(200, {}), json(200, {}), json(200, {}), json(200, {}), json(200, []), json(200, []), json(200, []), json(200, [])]);
    const api = new HttpDashboardApi({ fetch: fetchFn });
    const filter = { from: '2026-10-01', to: '2026-10-31', sites: ['s1'], suppress: false };
    await api.indicators(filter);
    await api.trends(filter);
    await api.surveys(filter);
    await api.stock(['s1', 's2']);
    await api.conflicts('all');
    await api.sites();
    await api.devices();
    await api.audit();
    expect(sent.map((s) => s.url)).toEqual([
      '/api/v1/dashboard/indicators?from=2026-10-01&to=2026-10-31&site=s1&suppress=false',
      '/api/v1/dashboard/trends?from=2026-10-01&to=2026-10-31&site=s1&suppress=false',
      '/api/v1/dashboard/surveys?from=2026-10-01&to=2026-10-31&site=s1',
      '/api/v1/dashboard/stock?site=s1&site=s2',
      '/api/v1/dashboard/conflicts?status=all',
      '/api/v1/dashboard/sites',
      '/api/v1/dashboard/devices',
      '/api/v1/dashboard/audit',
    ]);
    expect(api.exportUrl('tests', 'xlsx', filter)).toBe(
      '/api/v1/dashboard/export/tests?format=xlsx&from=2026-10-01&to=2026-10-31&site=s1&suppress=false',
    );
  });

  it('asks for the indicator sets, and one set with the filter of every report', async () => {
    const { sent, fetchFn } = fakeFetch([json(200, []), json(200, {}), json(200, {})]);
    const api = new HttpDashboardApi({ fetch: fetchFn });
    await api.indicatorSets();
    await api.indicatorSet('pepfar_kp_prev', { from: '2026-04-01', to: '2026-09-30', sites: ['s1', 's2'], suppress: true });
    await api.indicatorSet('a/b', { from: '2026-01-01', to: '2026-03-31', sites: [], suppress: false });
    expect(sent.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /api/v1/dashboard/indicator-sets',
      'GET /api/v1/dashboard/indicator-sets/pepfar_kp_prev?from=2026-04-01&to=2026-09-30&site=s1&site=s2&suppress=true',
      'GET /api/v1/dashboard/indicator-sets/a%2Fb?from=2026-01-01&to=2026-03-31&suppress=false',
    ]);
  });

  it('reviews duplicates: merges, undoes and dismisses with only the ids the server reads', async () => {
    const review = { pairs: [], total_pairs: 0, merges: [] };
    const { sent, fetchFn } = fakeFetch([
      json(200, { user, csrf_token: 'tok' }),
      json(200, review),
      json(200, review),
      json(200, review),
      json(200, review),
    ]);
    const api = new HttpDashboardApi({ fetch: fetchFn });
    await api.me();
    expect(await api.duplicates()).toEqual(review);
    await api.mergeClients({ keep: 'k-1', merge: 'm-2', extra: 'x' } as never);
    await api.undoMerge('a/b');
    await api.dismissDuplicate({ a: 'k-1', b: 'm-2' });
    expect(sent.slice(1).map((s) => [`${s.method} ${s.url}`, s.body, s.headers['X-CSRF-Token'] ?? null])).toEqual([
      ['GET /api/v1/dashboard/admin/duplicates', undefined, null],
      ['POST /api/v1/dashboard/admin/merges', { keep: 'k-1', merge: 'm-2' }, 'tok'],
      ['POST /api/v1/dashboard/admin/merges/a%2Fb/undo', {}, 'tok'],
      ['POST /api/v1/dashboard/admin/duplicates/dismiss', { a: 'k-1', b: 'm-2' }, 'tok'],
    ]);
  });

  it('sets up DHIS2: the connection without an empty token, a mapping as the CSV text itself', async () => {
    const settings = { token_set: true, mappings: [] };
    const { sent, fetchFn } = fakeFetch([json(200, { user, csrf_token: 'tok' }), json(200, settings), json(200, settings), json(200, settings), json(200, settings)]);
    const api = new HttpDashboardApi({ fetch: fetchFn });
    await api.me();
    expect(await api.dhis2()).toEqual(settings);
    await api.setDhis2Connection({ url: 'https://dhis2.example.org', token: '' });
    await api.setDhis2Connection({ url: 'https://dhis2.example.org', token: 'd2pat_x' });
    const csv = 'kind,key,cell,uid,category_option_combo,attribute_option_combo\ndata_set,,,aOutpostKP1,,\n';
    await api.saveDhis2Mapping('pepfar_kp_prev', csv);
    expect(sent.slice(1).map((s) => [`${s.method} ${s.url}`, s.body, s.headers['Content-Type'] ?? null, s.headers['X-CSRF-Token'] ?? null])).toEqual([
      ['GET /api/v1/dashboard/admin/dhis2', undefined, null, null],
      ['POST /api/v1/dashboard/admin/dhis2/connection', { url: 'https://dhis2.example.org' }, 'application/json', 'tok'],
      ['POST /api/v1/dashboard/admin/dhis2/connection', { url: 'https://dhis2.example.org', token: 'd2pat_x' }, 'application/json', 'tok'],
      ['POST /api/v1/dashboard/admin/dhis2/mappings/pepfar_kp_prev', csv, 'text/csv; charset=utf-8', 'tok'],
    ]);
  });

  it('previews, exports and sends a DHIS2 report with the filter, and reads and saves the service packages', async () => {
    const { sent, fetchFn } = fakeFetch([json(200, {}), json(200, {}), json(200, {}), json(200, {}), json(200, {})]);
    const api = new HttpDashboardApi({ fetch: fetchFn });
    const filter = { from: '2026-01-01', to: '2026-06-30', sites: ['s1'], suppress: true };
    await api.dhis2Preview('pepfar_kp_prev', filter);
    await api.sendToDhis2('pepfar_kp_prev', { from: '2026-01-01', to: '2026-06-30', sites: [], suppress: false, dry_run: true });
    await api.sendToDhis2('pepfar_kp_prev', { from: '2026-01-01', to: '2026-06-30', sites: ['s1'], dry_run: false });
    await api.packages();
    await api.savePackages({ packages: [] });
    expect(sent.map((s) => [`${s.method} ${s.url}`, s.body])).toEqual([
      ['GET /api/v1/dashboard/admin/dhis2/pepfar_kp_prev/preview?from=2026-01-01&to=2026-06-30&site=s1&suppress=true', undefined],
      ['POST /api/v1/dashboard/admin/dhis2/pepfar_kp_prev/send', { from: '2026-01-01', to: '2026-06-30', suppress: false, dry_run: true }],
      ['POST /api/v1/dashboard/admin/dhis2/pepfar_kp_prev/send', { from: '2026-01-01', to: '2026-06-30', sites: ['s1'], dry_run: false }],
      ['GET /api/v1/dashboard/admin/packages', undefined],
      ['POST /api/v1/dashboard/admin/packages', { packages: [] }],
    ]);
    expect(api.dhis2ExportUrl('pepfar_kp_prev', 'json', filter)).toBe(
      '/api/v1/dashboard/admin/dhis2/pepfar_kp_prev/export?format=json&from=2026-01-01&to=2026-06-30&site=s1&suppress=true',
    );
  });

  it('reads Retry-After as seconds or as a date', () => {
    const now = Date.UTC(2026, 10, 1, 12);
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });
});
