import { describe, expect, it } from 'vitest';
import type { StockMovementDraft } from './backend';
import { FakeBackend } from './fakeBackend';

async function levelAfter(...movements: StockMovementDraft[]): Promise<number | undefined> {
  const backend = new FakeBackend({ enrolled: true });
  for (const movement of movements) await backend.recordStockMovement({ movement });
  return (await backend.stockLevels()).find((l) => l.commodity === 'foil')?.level;
}

const foil = (kind: StockMovementDraft['kind'], quantity: number): StockMovementDraft => ({ commodity: 'foil', kind, quantity });

describe('the fake backend applies stock movements like the device store', () => {
  it('adds inflows, subtracts outflows and adds a correction with its sign', async () => {
    expect(await levelAfter(foil('received', 100))).toBe(100);
    expect(await levelAfter(foil('received', 100), foil('transfer_in', 20))).toBe(120);
    expect(await levelAfter(foil('received', 100), foil('transfer_out', 30))).toBe(70);
    expect(await levelAfter(foil('received', 100), foil('expired_damaged', 5))).toBe(95);
    expect(await levelAfter(foil('received', 100), foil('lost', 2))).toBe(98);
    expect(await levelAfter(foil('received', 100), foil('count_correction', -7))).toBe(93);
    expect(await levelAfter(foil('received', 100), foil('count_correction', 7))).toBe(107);
    expect(await levelAfter(foil('lost', 3))).toBe(-3);
  });

  it('refuses what the record does not allow', async () => {
    const backend = new FakeBackend({ enrolled: true });
    const refused = async (movement: StockMovementDraft) => {
      await expect(backend.recordStockMovement({ movement })).rejects.toMatchObject({ code: 'invalid' });
    };
    await refused({ commodity: '', kind: 'received', quantity: 5 });
    await refused(foil('received', 0));
    await refused(foil('lost', -4)); // an outflow keeps a positive quantity
    await refused(foil('transfer_out', 2.5));
    await refused(foil('count_correction', 0));
    await refused(foil('received', 1_000_001));
    await refused(foil('count_correction', -1_000_001));
    await refused({ commodity: 'foil', kind: 'stolen' as StockMovementDraft['kind'], quantity: 1 });
    expect(backend.movements).toEqual([]);
    expect((await backend.stockLevels()).find((l) => l.commodity === 'foil')).toBeUndefined();
  });
});
