/** Helpers for component tests: a session over the in-memory fake backend. */
import { render } from '@testing-library/svelte';
import type { Component } from 'svelte';
import { FakeBackend, type FakeOptions } from '../lib/fakeBackend';
import { testContext } from '../lib/context';
import { Session } from '../lib/session.svelte';
import { setLanguage } from '../i18n/index.svelte';

export async function fakeSession(options: FakeOptions = { enrolled: true, demo: true }) {
  const backend = new FakeBackend(options);
  const session = new Session(backend);
  setLanguage('en');
  await session.refresh();
  if (session.unlocked) await session.loadCatalogue();
  return { backend, session };
}

export function renderWith<P extends Record<string, unknown>>(
  component: Component<P>,
  session: Session,
  props?: P,
) {
  const options = { props: props ?? {}, context: testContext(session) };
  return render(component as Component<Record<string, unknown>>, options);
}
