import { describe, expect, it } from 'vitest';
import type { Conflict } from '../api';
import { isOpen, replaceConflict, shortId, sortConflicts, valueText } from './conflicts';

function conflict(id: number, detected: number, resolved: number | null = null): Conflict {
  const v = { value: 'x', device_id: 'd', at_ms: 0, device_name: null, worker: null };
  return {
    id,
    collection: 'contacts',
    record_id: 'r',
    site_id: 's',
    field: 'setting',
    winner: v,
    loser: v,
    detected_ms: detected,
    resolved_ms: resolved,
    resolution: resolved === null ? null : 'accepted',
    record: { client_uic: null, occurred_at: null, commodity: null },
  };
}

describe('conflict display', () => {
  it('shortens ids', () => {
    expect(shortId('dev_01J9Z6Q4W8RABC')).toBe('Q4W8RABC');
    expect(shortId('0192f1c2-7d3e-7a10-9c55-3e1b2a4c5d6e')).toBe('2a4c5d6e');
    // Two ids made in the same millisecond differ in their short form.
    expect(shortId('0192f1c2-7d3e-7a10-9c55-3e1b2a4c5d6e')).not.toBe(shortId('0192f1c2-7d3e-7a10-8b21-77aa01f3e9c0'));
    expect(shortId('abc')).toBe('abc');
  });

  it('shows values of any type', () => {
    expect(valueText('street_outreach')).toEqual({ kind: 'codes', codes: ['street_outreach'] });
    expect(valueText(['kit', 'counselling'])).toEqual({ kind: 'codes', codes: ['kit', 'counselling'] });
    expect(valueText('Came with a friend')).toEqual({ kind: 'text', text: 'Came with a friend' });
    expect(valueText(1987)).toEqual({ kind: 'text', text: '1987' });
    expect(valueText(false)).toEqual({ kind: 'text', text: 'false' });
    expect(valueText(null)).toEqual({ kind: 'empty' });
    expect(valueText([])).toEqual({ kind: 'empty' });
    expect(valueText({ hiv_rapid: 1 })).toEqual({ kind: 'text', text: '{"hiv_rapid":1}' });
  });

  it('puts open conflicts first, oldest first, then resolved ones, newest first', () => {
    const [rOld, openNew, rNew, openOld] = [1, 2, 3, 4];
    const list = [conflict(rOld, 1, 10), conflict(openNew, 5), conflict(rNew, 2, 20), conflict(openOld, 3)];
    expect(sortConflicts(list).map((c) => c.id)).toEqual([openOld, openNew, rNew, rOld]);
  });

  it('replaces a conflict by the answer of its resolution', () => {
    const list = [conflict(1, 1), conflict(2, 2)];
    const updated = replaceConflict(list, { ...list[1], resolved_ms: 9, resolution: 'reverted' });
    expect(updated.filter(isOpen).map((c) => c.id)).toEqual([1]);
  });
});
