/**
 * How components reach the backend and the session: through Svelte context, set once by
 * `App.svelte` (or by a test, with an in-memory fake backend).
 */
import { getContext, setContext } from 'svelte';
import type { Backend } from './backend';
import type { Session } from './session.svelte';

export const BACKEND_KEY = Symbol('outpost.backend');
export const SESSION_KEY = Symbol('outpost.session');

export function provide(session: Session): void {
  setContext(BACKEND_KEY, session.backend);
  setContext(SESSION_KEY, session);
}

export function useBackend(): Backend {
  const backend = getContext<Backend | undefined>(BACKEND_KEY);
  if (!backend) throw new Error('no backend in context');
  return backend;
}

export function useSession(): Session {
  const session = getContext<Session | undefined>(SESSION_KEY);
  if (!session) throw new Error('no session in context');
  return session;
}

/** The context map a test passes to `render(Component, { context })`. */
export function testContext(session: Session): Map<symbol, unknown> {
  return new Map<symbol, unknown>([
    [BACKEND_KEY, session.backend],
    [SESSION_KEY, session],
  ]);
}
