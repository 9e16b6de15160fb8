import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIdleTimer } from './idle';

describe('idle timer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires once after the idle period without activity', () => {
    const onIdle = vi.fn();
    const timer = createIdleTimer({ minutes: 2, onIdle });
    timer.start();
    vi.advanceTimersByTime(119_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    expect(timer.running).toBe(false);
    vi.advanceTimersByTime(10 * 60_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('counts from the last activity', () => {
    const onIdle = vi.fn();
    const timer = createIdleTimer({ minutes: 1, onIdle });
    timer.start();
    vi.advanceTimersByTime(50_000);
    timer.activity();
    vi.advanceTimersByTime(50_000);
    expect(onIdle).not.toHaveBeenCalled();
    timer.activity();
    vi.advanceTimersByTime(59_999);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('keeps a single timer however much activity there is', () => {
    const timer = createIdleTimer({ minutes: 5, onIdle: () => {} });
    timer.start();
    for (let i = 0; i < 1000; i++) {
      vi.advanceTimersByTime(100);
      timer.activity();
    }
    expect(vi.getTimerCount()).toBe(1);
  });

  it('does nothing until started and after stopped', () => {
    const onIdle = vi.fn();
    const timer = createIdleTimer({ minutes: 1, onIdle });
    vi.advanceTimersByTime(5 * 60_000);
    expect(onIdle).not.toHaveBeenCalled();
    timer.start();
    timer.stop();
    vi.advanceTimersByTime(5 * 60_000);
    expect(onIdle).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('applies a new period from the last activity', () => {
    const onIdle = vi.fn();
    const timer = createIdleTimer({ minutes: 10, onIdle });
    timer.start();
    vi.advanceTimersByTime(90_000);
    timer.setMinutes(1);
    expect(onIdle).toHaveBeenCalledTimes(0);
    vi.advanceTimersByTime(0);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('catches up after the tablet slept', () => {
    let clock = 0;
    const onIdle = vi.fn();
    const timers: (() => void)[] = [];
    const timer = createIdleTimer({
      minutes: 3,
      onIdle,
      now: () => clock,
      setTimer: (fn) => timers.push(fn),
      clearTimer: () => {},
    });
    timer.start();
    clock = 2 * 60_000;
    timer.check();
    expect(onIdle).not.toHaveBeenCalled();
    clock = 30 * 60_000; // woke up long after; the timer never ran while asleep
    timer.check();
    expect(onIdle).toHaveBeenCalledTimes(1);
  });
});
