/**
 * Enrolment input: the one-time code a coordinator prints (`XXXX-XXXX-XXXX`, from an alphabet
 * without look-alike characters) and the server address.
 */

import { ENROL_LINK_CODE_PARAM, ENROL_LINK_PATH } from '../backend';

/** The server's code alphabet (sync-server/src/tokens.rs): no 0/O, 1/I/L. */
export const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const CODE_LENGTH = 12;

export type CodeProblem = 'length' | 'characters';
export type CodeResult = { ok: true; code: string } | { ok: false; problem: CodeProblem };

function compact(raw: string): string {
  return raw.toUpperCase().replace(/[\s\-_.]/g, '');
}

function group(chars: string): string {
  return (chars.match(/.{1,4}/g) ?? []).join('-');
}

/** Validates a typed code: case, spaces and dashes do not matter. */
export function normaliseEnrolmentCode(raw: string): CodeResult {
  const chars = compact(raw);
  if ([...chars].some((c) => !CODE_ALPHABET.includes(c))) return { ok: false, problem: 'characters' };
  if (chars.length !== CODE_LENGTH) return { ok: false, problem: 'length' };
  return { ok: true, code: group(chars) };
}

/** The code as it is being typed: upper-cased and grouped by four, at most 12 characters. */
export function formatCodeAsTyped(raw: string): string {
  const chars = compact(raw).replace(/[^A-Z0-9]/g, '').slice(0, CODE_LENGTH);
  return group(chars);
}

export type UrlResult = { ok: true; url: string } | { ok: false };

/**
 * The server address: `https://` is assumed when no scheme is typed; only http(s) URLs with a
 * host are accepted; a trailing slash is dropped.
 */
export function normaliseServerUrl(raw: string): UrlResult {
  let text = raw.trim();
  if (!text) return { ok: false };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `https://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false };
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !url.hostname || url.username || url.password) {
    return { ok: false };
  }
  if (url.search || url.hash) return { ok: false };
  return { ok: true, url: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}` };
}

/** A device name: trimmed, inner runs of spaces collapsed, 1–64 characters. */
export function normaliseDeviceName(raw: string): string | null {
  const name = raw.trim().replace(/\s+/g, ' ');
  return name.length >= 1 && name.length <= 64 ? name : null;
}

/** A worker's name or initials (kept on the device only): 1–40 characters. */
export function normaliseWorker(raw: string): string | null {
  const name = raw.trim().replace(/\s+/g, ' ');
  return name.length >= 1 && name.length <= 40 ? name : null;
}

/**
 * The server's address and the code of an enrolment link (`<server>/enrol?code=<code>`, core's
 * `wire::enrolment_link`), pasted or scanned from an enrolment card; null when the text is not
 * such a link (then it is read as a plain address).
 */
export function splitEnrolmentLink(raw: string): { server: string; code: string } | null {
  const text = raw.trim();
  if (!/^https?:\/\//i.test(text)) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const code = url.searchParams.get(ENROL_LINK_CODE_PARAM);
  const path = url.pathname.replace(/\/+$/, '');
  if (code === null || !path.endsWith(ENROL_LINK_PATH) || url.username || url.password) return null;
  const server = normaliseServerUrl(`${url.protocol}//${url.host}${path.slice(0, -ENROL_LINK_PATH.length)}`);
  return server.ok ? { server: server.url, code: formatCodeAsTyped(code) } : null;
}
