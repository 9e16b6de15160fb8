import { describe, expect, it } from 'vitest';
import {
  formatCodeAsTyped,
  normaliseDeviceName,
  normaliseEnrolmentCode,
  normaliseServerUrl,
  normaliseWorker,
  splitEnrolmentLink,
} from './enrolment';

describe('enrolment code', () => {
  it('normalises case, spaces and dashes', () => {
    expect(normaliseEnrolmentCode('abcd efgh jk23')).toEqual({ ok: true, code: 'ABCD-EFGH-JK23' });
    expect(normaliseEnrolmentCode(' QUD4-B6QH-DYK7 ')).toEqual({ ok: true, code: 'QUD4-B6QH-DYK7' });
    expect(normaliseEnrolmentCode('qud4b6qhdyk7')).toEqual({ ok: true, code: 'QUD4-B6QH-DYK7' });
  });

  it('rejects the wrong length', () => {
    expect(normaliseEnrolmentCode('ABCD-EFGH-JK2')).toEqual({ ok: false, problem: 'length' });
    expect(normaliseEnrolmentCode('ABCD-EFGH-JK234')).toEqual({ ok: false, problem: 'length' });
    expect(normaliseEnrolmentCode('')).toEqual({ ok: false, problem: 'length' });
  });

  it('rejects characters the server never uses (0, O, 1, I, L, symbols)', () => {
    expect(normaliseEnrolmentCode('ABCD-EFGH-JK20')).toEqual({ ok: false, problem: 'characters' });
    expect(normaliseEnrolmentCode('ABCD-EFGH-JKO2')).toEqual({ ok: false, problem: 'characters' });
    expect(normaliseEnrolmentCode('ABCD-EFGH-JK1L')).toEqual({ ok: false, problem: 'characters' });
    expect(normaliseEnrolmentCode('ABCD/EFGH/JK23')).toEqual({ ok: false, problem: 'characters' });
  });

  it('formats while typing', () => {
    expect(formatCodeAsTyped('ab')).toBe('AB');
    expect(formatCodeAsTyped('abcde')).toBe('ABCD-E');
    expect(formatCodeAsTyped('abcd-efgh-jk23xyz')).toBe('ABCD-EFGH-JK23');
    expect(formatCodeAsTyped('ABCD-')).toBe('ABCD');
  });
});

describe('server address', () => {
  it('assumes https and drops trailing slashes', () => {
    expect(normaliseServerUrl('outpost.example.org')).toEqual({ ok: true, url: 'https://outpost.example.org' });
    expect(normaliseServerUrl(' https://outpost.example.org/ ')).toEqual({ ok: true, url: 'https://outpost.example.org' });
    expect(normaliseServerUrl('http://192.168.1.10:8080')).toEqual({ ok: true, url: 'http://192.168.1.10:8080' });
    expect(normaliseServerUrl('https://example.org/outpost/')).toEqual({ ok: true, url: 'https://example.org/outpost' });
  });

  it('refuses anything that is not a plain http(s) address', () => {
    for (const bad of ['', '   ', 'ftp://example.org', 'https://user:pw@example.org', 'https://exa mple.org', 'https://x.org/?a=1']) {
      expect(normaliseServerUrl(bad).ok, bad).toBe(false);
    }
  });
});

describe('names', () => {
  it('trims and bounds device and worker names', () => {
    expect(normaliseDeviceName('  Van   2 tablet ')).toBe('Van 2 tablet');
    expect(normaliseDeviceName('   ')).toBeNull();
    expect(normaliseDeviceName('x'.repeat(65))).toBeNull();
    expect(normaliseWorker(' A. K. ')).toBe('A. K.');
    expect(normaliseWorker('')).toBeNull();
  });
});

describe('enrolment links', () => {
  it("split into the server's address and the code, as an enrolment card prints them", () => {
    expect(splitEnrolmentLink('https://outpost.example.org/enrol?code=ABCD-EFGH-JKMN')).toEqual({
      server: 'https://outpost.example.org',
      code: 'ABCD-EFGH-JKMN',
    });
    // A server under a path, a code in lower case without dashes, spaces around.
    expect(splitEnrolmentLink('  https://hr.example.org/outpost/enrol/?code=abcdefghjkmn ')).toEqual({
      server: 'https://hr.example.org/outpost',
      code: 'ABCD-EFGH-JKMN',
    });
    expect(splitEnrolmentLink('http://127.0.0.1:8080/enrol?code=ABCD-EFGH-JKMN')?.server).toBe('http://127.0.0.1:8080');
  });

  it('are not mistaken for plain addresses, or the other way round', () => {
    expect(splitEnrolmentLink('outpost.example.org')).toBeNull();
    expect(splitEnrolmentLink('https://outpost.example.org')).toBeNull();
    expect(splitEnrolmentLink('https://outpost.example.org/enrol')).toBeNull();
    expect(splitEnrolmentLink('https://outpost.example.org/other?code=ABCD')).toBeNull();
    expect(splitEnrolmentLink('ftp://outpost.example.org/enrol?code=ABCD')).toBeNull();
    expect(splitEnrolmentLink('https://user:pw@outpost.example.org/enrol?code=ABCD')).toBeNull();
  });
});
