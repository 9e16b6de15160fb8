import { describe, expect, it } from 'vitest';
import type { OpenReferral } from '../backend';
import { targetFallback, withoutReferral } from './referrals';

const referral = (id: string, target = 'ost'): OpenReferral => ({
  id,
  target,
  issued_at: '2026-11-20T10:00:00Z',
  client_id: 'c1',
  client_uic: 'MAIV287',
});

describe('referral follow-up', () => {
  it('drops the referral that got its outcome and keeps the order of the rest', () => {
    const list = [referral('a'), referral('b'), referral('c')];
    expect(withoutReferral(list, 'b').map((r) => r.id)).toEqual(['a', 'c']);
    expect(withoutReferral(list, 'zzz')).toEqual(list);
    expect(list).toHaveLength(3);
  });

  it('names a target the app cannot translate by its words', () => {
    expect(targetFallback('harm_reduction_housing')).toBe('harm reduction housing');
    expect(targetFallback('ost')).toBe('ost');
    expect(targetFallback('_')).toBe('_');
  });
});
