/**
 * What the real commands answered: `generated/backend-fixtures.json`, written by
 * `src-tauri/tests/backend_fixtures.rs`, which runs the app's own command handlers (Tauri's mock
 * runtime, a real encrypted store, a real server) through a worker's day and records every call
 * in order, ids and times replaced by placeholders. The fake backend answers from these
 * exchanges instead of restating the backend's rules; `fakeBackend.test.ts` replays the whole
 * day against it.
 *
 * A test that needs an exchange that is not recorded adds the call to the recorder and
 * regenerates the file (see the recorder's comment); it never writes the answer here.
 */
import raw from './generated/backend-fixtures.json';
import type { CommandError } from './generated/backend';

/** A recorded refusal: the command's error, or the plain string Tauri rejects bad arguments with. */
export type Refusal = CommandError | string;

export type Exchange = { command: string; args: Record<string, unknown> } & ({ ok: unknown } | { error: Refusal });

/** Every recorded exchange, in call order. */
export const EXCHANGES: readonly Exchange[] = raw as unknown as Exchange[];

/** The text of a JSON value with its keys sorted and absent values left out (`undefined`). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Whether two argument objects are the same JSON (key order and `undefined` members aside). */
export function sameArgs(a: unknown, b: unknown): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

export function isRefused(e: Exchange): e is Exchange & { error: Refusal } {
  return 'error' in e;
}

export function isAnswered(e: Exchange): e is Exchange & { ok: unknown } {
  return 'ok' in e;
}

/** The code of a refusal (`internal` for Tauri's plain strings, as `toBackendError` says). */
export function refusalCode(error: Refusal): string {
  return typeof error === 'string' ? 'internal' : error.code;
}

/** The recorded exchanges of `command`, in call order; with `args`, only the calls with equal arguments. */
export function exchanges(command: string, args?: object): Exchange[] {
  return EXCHANGES.filter((e) => e.command === command && (args === undefined || sameArgs(e.args, args)));
}

/** The first recorded exchange of `command` with these arguments. */
export function recorded(command: string, args: object = {}): Exchange | undefined {
  return exchanges(command, args)[0];
}

/** A deep copy of what was recorded (the fake hands out copies, as a real call would). */
export function copy<T>(value: unknown): T {
  return structuredClone(value) as T;
}

/** The recorded answer of `command` with these arguments; throws if none was recorded. */
export function recordedAnswer<T>(command: string, args: object = {}): T {
  const found = exchanges(command, args).find(isAnswered);
  if (!found) throw new Error(`no answer of ${command} ${canonical(args)} in backend-fixtures.json`);
  return copy<T>(found.ok);
}

/**
 * Codes of refusals that depend only on the arguments, so a call with equal arguments is refused
 * the same way in any state (unlike `app_locked`, `not_found`, `wrong_pin`, ...).
 */
const ARGUMENT_CODES = new Set(['invalid', 'invalid_answer', 'invalid_answers', 'unknown_form', 'enrollment_code_invalid', 'internal']);

/** The refusal recorded for `command` with equal arguments, if it was about the arguments themselves. */
export function argumentRefusal(command: string, args: object): Refusal | undefined {
  const found = exchanges(command, args).find((e) => isRefused(e) && ARGUMENT_CODES.has(refusalCode(e.error)));
  return found && isRefused(found) ? copy<Refusal>(found.error) : undefined;
}

/**
 * The first recorded refusal of `command` (or of any command, with `'*'`) with `code` that
 * `where` accepts; throws when the recording has none (record one).
 */
export function refusal(command: string, code: string, where: (e: Exchange) => boolean = () => true): CommandError {
  const found = EXCHANGES.find(
    (e) => (command === '*' || e.command === command) && isRefused(e) && refusalCode(e.error) === code && where(e),
  );
  if (!found || !isRefused(found) || typeof found.error === 'string') {
    throw new Error(`no recorded ${code} refusal of ${command} in backend-fixtures.json: record one`);
  }
  return copy<CommandError>(found.error);
}

/**
 * The recorded refusal of a value the record refuses: the `invalid` refusal whose message is
 * about `field` (`invalid input: <field>: ...`, as the record schema words it), from any command
 * that writes that record. Its message names the value the recorder sent.
 */
export function fieldRefusal(field: string): CommandError {
  return refusal('*', 'invalid', (e) => isRefused(e) && typeof e.error !== 'string' && e.error.message.startsWith(`invalid input: ${field}:`));
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** A recorded refusal about one record, saying the id of the record asked for instead. */
export function aboutRecord(error: CommandError, id: string): CommandError {
  return { ...error, message: error.message.replace(UUID, id) };
}

/** Whether a correction was refused for a contact the day's last listing showed as no longer editable. */
function editableBefore(index: number, contact: unknown): boolean | undefined {
  for (let i = index - 1; i >= 0; i--) {
    const e = EXCHANGES[i];
    if ((e.command === 'client_history' || e.command === 'contacts_between') && isAnswered(e)) {
      const listed = (e.ok as { id: string; editable: boolean }[]).find((c) => c.id === contact);
      if (listed) return listed.editable;
    }
  }
  return undefined;
}

/**
 * What a correction (`update_contact`, `reverse_line`, `update_overdose`) of a contact past its
 * edit window is refused with: the refusal recorded for a contact the listing before it showed
 * as no longer editable.
 */
export function editWindowRefusal(command: string): CommandError {
  const index = EXCHANGES.findIndex((e, i) => {
    if (e.command !== command || !isRefused(e)) return false;
    return editableBefore(i, e.args.id ?? e.args.contactId) === false;
  });
  const found = EXCHANGES[index];
  if (!found || !isRefused(found) || typeof found.error === 'string') {
    throw new Error(`no recorded edit-window refusal of ${command} in backend-fixtures.json: record one`);
  }
  return copy<CommandError>(found.error);
}

/**
 * What `record_linkage` refused a test with: `already_linked`, the `invalid` refusal recorded for
 * a test an earlier call had linked; `not_reactive`, one recorded for a test no call had linked
 * (`undefined` while the recorder has none).
 */
export function linkageRefusal(reason: 'already_linked' | 'not_reactive'): CommandError | undefined {
  const found = EXCHANGES.find((e, i) => {
    if (e.command !== 'record_linkage' || !isRefused(e) || refusalCode(e.error) !== 'invalid') return false;
    const linkedBefore = EXCHANGES.slice(0, i).some((x) => x.command === 'record_linkage' && isAnswered(x) && x.args.id === e.args.id);
    return linkedBefore === (reason === 'already_linked');
  });
  return found && isRefused(found) && typeof found.error !== 'string' ? copy<CommandError>(found.error) : undefined;
}

/** What the fake rejects with when nothing recorded says how the real backend would answer. */
export function notRecorded(command: string, args: unknown, hint = ''): CommandError {
  return {
    code: 'not_recorded',
    message:
      `${command} ${canonical(args ?? {})} is not in backend-fixtures.json, so the fake backend cannot say what ` +
      `the real one answers${hint ? ` (${hint})` : ''}: record it in src-tauri/tests/backend_fixtures.rs`,
  };
}

/** One answer to a wrong PIN, and what a PIN tried during the wait it set was answered. */
export interface WrongPinStep {
  answer: CommandError;
  whileWaiting?: CommandError;
}

/**
 * The recorded answers to wrong PINs in a row (`wrong_pin` with the tries left and the wait,
 * then `wiped`), by the wrong-PIN limit (`Status.wipe_after`) they were recorded at: the n-th
 * wrong PIN in a row is answered `runs.get(limit)[n - 1]`. A right PIN (or a new one) starts
 * the count again; `pin_wait` answers, which check no PIN, do not count.
 */
export function wrongPinRuns(): Map<number, WrongPinStep[]> {
  const runs = new Map<number, WrongPinStep[]>();
  let limit: number | null = null;
  let inRow = 0;
  for (const e of EXCHANGES) {
    if (e.command === 'status' && isAnswered(e)) limit = (e.ok as { wipe_after: number }).wipe_after;
    else if (e.command === 'set_wipe_after' && isAnswered(e)) limit = e.args.attempts as number;
    else if ((e.command === 'unlock' || e.command === 'set_pin') && isAnswered(e)) inRow = 0;
    else if (e.command === 'unlock' && isRefused(e) && typeof e.error !== 'string' && limit !== null) {
      const steps = runs.get(limit) ?? [];
      runs.set(limit, steps);
      if (e.error.code === 'pin_wait') {
        const last = steps[inRow - 1];
        if (last && !last.whileWaiting) last.whileWaiting = copy<CommandError>(e.error);
      } else if (e.error.code === 'wrong_pin' || e.error.code === 'wiped') {
        steps[inRow] ??= { answer: copy<CommandError>(e.error) };
        inRow = e.error.code === 'wiped' ? 0 : inRow + 1;
      }
    }
  }
  return runs;
}

type RecordedStatus = { enrolled: boolean; locked: boolean; pin_set: boolean; wiped: boolean };

/**
 * A recorded status: of a new tablet (`new`), of one enrolled and waiting for its PIN
 * (`enrolled`), unlocked (`unlocked`) or locked (`locked`).
 */
export function recordedStatus<T>(phase: 'new' | 'enrolled' | 'unlocked' | 'locked'): T {
  const matches: Record<typeof phase, (s: RecordedStatus) => boolean> = {
    new: (s) => !s.enrolled && !s.wiped,
    enrolled: (s) => s.enrolled && !s.pin_set,
    unlocked: (s) => s.enrolled && s.pin_set && !s.locked,
    locked: (s) => s.enrolled && s.pin_set && s.locked,
  };
  const found = EXCHANGES.find((e) => e.command === 'status' && isAnswered(e) && matches[phase](e.ok as RecordedStatus));
  if (!found || !isAnswered(found)) throw new Error(`no recorded status of a ${phase} tablet in backend-fixtures.json`);
  return copy<T>(found.ok);
}
