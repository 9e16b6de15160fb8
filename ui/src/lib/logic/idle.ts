/**
 * Locks the app after a period without touches or key presses. Activity only records a time
 * stamp (cheap enough for every pointer event); one timer checks the elapsed time when it fires
 * and re-arms for the remainder, so a steady stream of touches never piles up timers. `check()`
 * catches up after the tablet slept (timers do not run while it sleeps).
 */
export interface IdleTimerOptions {
  minutes: number;
  onIdle: () => void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface IdleTimer {
  /** Starts watching (after unlocking); counts from now. */
  start(): void;
  /** Stops watching (when locked). */
  stop(): void;
  /** A touch, a key press: the idle period starts again. */
  activity(): void;
  /** Changes the idle period; counts from the last activity. */
  setMinutes(minutes: number): void;
  /** Fires `onIdle` now if the period has already passed (after the tablet woke up). */
  check(): void;
  readonly running: boolean;
}

/** Idle periods a worker can choose in Settings, in minutes. */
export const IDLE_CHOICES = [1, 2, 3, 5, 10, 15] as const;

export function createIdleTimer(options: IdleTimerOptions): IdleTimer {
  const now = options.now ?? (() => Date.now());
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  let periodMs = Math.max(1, options.minutes) * 60_000;
  let last = now();
  let handle: unknown = null;
  let running = false;

  function disarm() {
    if (handle !== null) clearTimer(handle);
    handle = null;
  }

  function arm(ms: number) {
    disarm();
    handle = setTimer(fire, Math.max(0, ms));
  }

  function fire() {
    handle = null;
    if (!running) return;
    const remaining = last + periodMs - now();
    if (remaining > 0) {
      arm(remaining);
      return;
    }
    running = false;
    options.onIdle();
  }

  return {
    start() {
      running = true;
      last = now();
      arm(periodMs);
    },
    stop() {
      running = false;
      disarm();
    },
    activity() {
      last = now();
    },
    setMinutes(minutes: number) {
      periodMs = Math.max(1, minutes) * 60_000;
      if (running) arm(last + periodMs - now());
    },
    check() {
      if (running && now() - last >= periodMs) fire();
    },
    get running() {
      return running;
    },
  };
}
