import { describe, expect, it } from 'vitest';
import { RECORDED_COMMODITIES } from '../fakeBackend';
import type { StockKind } from '../backend';
import {
  detailsFor,
  directionOf,
  levelChange,
  MAX_STOCK_QUANTITY,
  movementDraft,
  movementProblem,
  needsAttention,
  needsConfirmation,
  openingCountNeeded,
  stockRows,
  type MovementInput,
} from './stock';

describe('stock levels', () => {
  const catalogue = RECORDED_COMMODITIES.slice(0, 3); // syringe_1ml, syringe_2ml, syringe_5ml (threshold 100)

  it('lists every catalogue commodity, with zero when nothing moved, then retired ones', () => {
    const rows = stockRows(catalogue, [
      { commodity: 'syringe_2ml', received: 500, distributed: 420, level: 80, threshold: 100, status: 'low', expiring: [] },
      { commodity: 'old_thing', received: 5, distributed: 0, level: 5, threshold: null, status: 'ok', expiring: [] },
    ]);
    expect(rows.map((r) => [r.code, r.level, r.status])).toEqual([
      ['syringe_1ml', 0, 'not_counted'],
      ['syringe_2ml', 80, 'low'],
      ['syringe_5ml', 0, 'not_counted'],
      ['old_thing', 5, 'ok'],
    ]);
  });

  it("takes the device's status (core's rule), and calls a level never recorded not counted, not low", () => {
    expect(needsAttention({ status: 'low' })).toBe(true);
    expect(needsAttention({ status: 'count_needed' })).toBe(true);
    expect(needsAttention({ status: 'ok' })).toBe(false);
    expect(needsAttention({ status: 'not_counted' })).toBe(false);
  });

  it('asks for the opening count while nothing was counted or received at the site', () => {
    expect(openingCountNeeded([{ received: 0 }, { received: 0 }])).toBe(true);
    expect(openingCountNeeded([{ received: 0 }, { received: 40 }])).toBe(false);
    expect(openingCountNeeded([])).toBe(false);
  });
});

describe('stock movements', () => {
  const base: MovementInput = { commodity: 'syringe_1ml', kind: 'received', quantity: 500, batch: '', expiryDate: '', grantCode: '' };
  const move = (kind: StockKind, quantity: number, extra: Partial<MovementInput> = {}) => ({ ...base, kind, quantity, ...extra });

  it('adds inflows, subtracts outflows and sets the level by a count', () => {
    // [kind, quantity entered, level before, change, direction]
    const cases: [StockKind, number, number, number, string][] = [
      ['received', 500, 80, 500, 'in'],
      ['transfer_in', 40, 80, 40, 'in'],
      ['transfer_out', 30, 80, -30, 'out'],
      ['expired_damaged', 5, 80, -5, 'out'],
      ['lost', 2, 80, -2, 'out'],
      ['count_correction', 75, 80, -5, 'count'],
      ['count_correction', 90, 80, 10, 'count'],
      ['count_correction', 10, -15, 25, 'count'],
    ];
    for (const [kind, quantity, level, change, direction] of cases) {
      expect(directionOf(kind), kind).toBe(direction);
      expect(levelChange(move(kind, quantity), level), `${kind} ${quantity} at ${level}`).toBe(change);
    }
  });

  it('sends outflows with a positive quantity and a correction with its signed difference', () => {
    expect(movementDraft(move('lost', 3), 80)).toEqual({ commodity: 'syringe_1ml', quantity: 3, kind: 'lost' });
    expect(movementDraft(move('transfer_out', 30), 80)).toEqual({ commodity: 'syringe_1ml', quantity: 30, kind: 'transfer_out' });
    expect(movementDraft(move('count_correction', 75), 80)).toEqual({ commodity: 'syringe_1ml', quantity: -5, kind: 'count_correction' });
    expect(movementDraft(move('count_correction', 120), 80)).toEqual({ commodity: 'syringe_1ml', quantity: 40, kind: 'count_correction' });
  });

  it('keeps the details each kind asks for and leaves blank ones out', () => {
    const details = { batch: ' B-17 ', expiryDate: '2027-03-31', grantCode: 'GF-2025' };
    expect(movementDraft(base, 0)).toEqual({ commodity: 'syringe_1ml', quantity: 500, kind: 'received' });
    expect(movementDraft({ ...base, ...details }, 0)).toEqual({
      commodity: 'syringe_1ml',
      quantity: 500,
      kind: 'received',
      batch: 'B-17',
      expiry_date: '2027-03-31',
      grant_code: 'GF-2025',
    });
    expect(movementDraft(move('expired_damaged', 5, details), 80)).toEqual({
      commodity: 'syringe_1ml',
      quantity: 5,
      kind: 'expired_damaged',
      batch: 'B-17',
      expiry_date: '2027-03-31',
    });
    // Typed while "received" was chosen, then the worker switched to a count: not sent.
    expect(movementDraft(move('count_correction', 70, details), 80)).toEqual({ commodity: 'syringe_1ml', quantity: -10, kind: 'count_correction' });
    expect(detailsFor('lost')).toEqual({ batch: false, expiry: false, grant: false });
    expect(detailsFor('transfer_in')).toEqual({ batch: true, expiry: true, grant: true });
  });

  it('says what is missing or wrong, first things first', () => {
    expect(movementProblem(base, 0)).toBeNull();
    expect(movementProblem({ ...base, commodity: null, kind: null, quantity: 0 }, 0)).toBe('commodity');
    expect(movementProblem({ ...base, commodity: '' }, 0)).toBe('commodity');
    expect(movementProblem({ ...base, kind: null }, 0)).toBe('kind');
    for (const kind of ['received', 'transfer_in', 'transfer_out', 'expired_damaged', 'lost'] as const) {
      expect(movementProblem(move(kind, 0), 100), `${kind} 0`).toBe('quantity');
      expect(movementProblem(move(kind, -5), 100), `${kind} -5`).toBe('quantity');
      expect(movementProblem(move(kind, 2.5), 100), `${kind} 2.5`).toBe('quantity');
      expect(movementProblem(move(kind, MAX_STOCK_QUANTITY + 1), 100), `${kind} huge`).toBe('quantity');
      expect(movementProblem(move(kind, MAX_STOCK_QUANTITY), 1_000_000), `${kind} max`).toBeNull();
    }
    expect(movementProblem({ ...base, expiryDate: '2027-02-30' }, 0)).toBe('expiry');
    expect(movementProblem({ ...base, expiryDate: '2027-02-28' }, 0)).toBeNull();
    // The expiry date is not asked for a loss, so a stale one does not block it.
    expect(movementProblem(move('lost', 1, { expiryDate: 'nonsense' }), 10)).toBeNull();
  });

  it('refuses a count that changes nothing, a negative count and an impossible difference', () => {
    expect(movementProblem(move('count_correction', 80), 80)).toBe('nothing_to_correct');
    expect(movementProblem(move('count_correction', 0), 0)).toBe('nothing_to_correct');
    expect(movementProblem(move('count_correction', 0), 80)).toBeNull(); // everything gone: a real correction
    expect(movementProblem(move('count_correction', -1), 80)).toBe('counted');
    expect(movementProblem(move('count_correction', MAX_STOCK_QUANTITY + 1), 80)).toBe('counted');
    expect(movementProblem(move('count_correction', 0), 1_000_001)).toBe('correction_too_large');
  });

  it('asks for confirmation when more goes out than the tablet shows in stock', () => {
    expect(needsConfirmation(move('transfer_out', 80), 80)).toBe(false);
    expect(needsConfirmation(move('transfer_out', 81), 80)).toBe(true);
    expect(needsConfirmation(move('lost', 1), 0)).toBe(true);
    expect(needsConfirmation(move('expired_damaged', 1), -20)).toBe(true);
    expect(needsConfirmation(move('received', 5000), 0)).toBe(false);
    expect(needsConfirmation(move('count_correction', 0), 80)).toBe(false);
  });
});
