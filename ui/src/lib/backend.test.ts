import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

const { COMMANDS, tauriBackend } = await import('./backend');
type Method = keyof typeof COMMANDS;

describe('tauriBackend', () => {
  beforeEach(() => invoke.mockReset());

  it('has a method for every command and invokes that command with the arguments given', async () => {
    for (const method of Object.keys(COMMANDS) as Method[]) {
      invoke.mockResolvedValueOnce({ answered: method });
      const call = tauriBackend[method] as (args?: Record<string, unknown>) => Promise<unknown>;
      await expect(call({ probe: method })).resolves.toEqual({ answered: method });
      expect(invoke).toHaveBeenLastCalledWith(COMMANDS[method], { probe: method });
    }
    expect(invoke).toHaveBeenCalledTimes(Object.keys(COMMANDS).length);
  });

  it('sends plain JSON copies of what a screen passes', async () => {
    invoke.mockResolvedValueOnce(undefined);
    const kept = new Map([['a', 1]]);
    await tauriBackend.unlock({ pin: '135790', extra: kept } as unknown as { pin: string });
    expect(invoke).toHaveBeenLastCalledWith('unlock', { pin: '135790', extra: {} });
  });

  it('rejects with the command error the Rust side sent, or an internal one for a plain string', async () => {
    invoke.mockRejectedValueOnce({ code: 'wrong_pin', message: 'Wrong PIN', attempts_left: 4, stray: true });
    await expect(tauriBackend.unlock({ pin: '000000' })).rejects.toEqual({ code: 'wrong_pin', message: 'Wrong PIN', attempts_left: 4 });
    invoke.mockRejectedValueOnce('invalid args `attempts` for command `set_wipe_after`');
    await expect(tauriBackend.setWipeAfter({ attempts: -1 })).rejects.toEqual({
      code: 'internal',
      message: 'invalid args `attempts` for command `set_wipe_after`',
    });
  });
});
