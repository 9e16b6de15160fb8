import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeBackend } from './fakeBackend';
import { Session } from './session.svelte';

afterEach(() => vi.useRealTimers());

describe('notices', () => {
  it('follow the worker to the screen their action opened, and go when another screen is opened later', () => {
    vi.useFakeTimers();
    const session = new Session(new FakeBackend());
    session.notify('contact.saved', { code: 'MAIV287' });
    session.go('home');
    expect(session.notice?.key).toBe('contact.saved');
    vi.advanceTimersByTime(2000);
    session.go('sync');
    expect(session.notice).toBeNull();
  });

  it('go by themselves after a few seconds', () => {
    vi.useFakeTimers();
    const session = new Session(new FakeBackend());
    session.notify('contact.saved', { code: 'MAIV287' });
    vi.advanceTimersByTime(4100);
    expect(session.notice).toBeNull();
  });
});
