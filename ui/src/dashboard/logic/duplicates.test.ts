import { describe, expect, it } from 'vitest';
import type { DuplicatePair, ReviewRecord } from '../api';
import { chosen, codeDifference, pairKey } from './duplicates';

const record = (id: string, code: string): ReviewRecord => ({
  id,
  code,
  gender: null,
  birth_year: null,
  site: null,
  first_seen_at: null,
  contacts: 0,
  last_seen_at: null,
  seen_at: [],
});

const pair: DuplicatePair = { keep: record('b', 'MAIV287'), merge: record('a', 'MIAV287'), reason: 'near_code', shared_sites: [] };

describe('a duplicate pair', () => {
  it('keeps the suggested record unless the other is chosen', () => {
    expect(chosen(pair, undefined).keep.id).toBe('b');
    expect(chosen(pair, 'b')).toEqual({ keep: pair.keep, merge: pair.merge });
    expect(chosen(pair, 'a')).toEqual({ keep: pair.merge, merge: pair.keep });
  });

  it('is known by its two records whichever is kept', () => {
    expect(pairKey(pair)).toBe('a|b');
    expect(pairKey({ ...pair, keep: pair.merge, merge: pair.keep })).toBe('a|b');
  });
});

describe('where two codes differ', () => {
  const middles = (a: string, b: string) => {
    const d = codeDifference(a, b);
    return [d.a.middle, d.b.middle];
  };

  it('finds the slip: swapped, changed, added or dropped letters, the year', () => {
    expect(middles('MAIV287', 'MIAV287')).toEqual(['AI', 'IA']);
    expect(middles('MAIV287', 'MAKV287')).toEqual(['I', 'K']);
    expect(middles('MAIV287', 'MAIIV287')).toEqual(['', 'I']);
    expect(middles('OLPE290', 'OLPE289')).toEqual(['90', '89']);
    expect(middles('MAIV287', 'MAIV287')).toEqual(['', '']);
  });

  it('keeps every character of both codes', () => {
    for (const [a, b] of [['MAIV287', 'MIAV287'], ['AAAA', 'AAA'], ['ЖЕНЯ190', 'ЖЕНА190'], ['', 'X']]) {
      const d = codeDifference(a, b);
      expect(d.a.head + d.a.middle + d.a.tail).toBe(a);
      expect(d.b.head + d.b.middle + d.b.tail).toBe(b);
    }
  });
});
