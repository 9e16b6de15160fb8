// @vitest-environment happy-dom
import { fireEvent, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import { setLanguage } from '../i18n/index.svelte';
import Lock from './Lock.svelte';
import { fakeSession, renderWith } from '../test/render';

async function enterPin(pin: string) {
  for (const d of pin) await fireEvent.click(screen.getByRole('button', { name: d }));
  await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
}

describe('lock screen', () => {
  it('unlocks with the right PIN', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, locked: true, pin: '2580' });
    renderWith(Lock, session);
    await enterPin('2580');
    await screen.findByRole('button', { name: 'Unlock' });
    expect(backend.callsOf('unlock')).toEqual([{ pin: '2580' }]);
    await new Promise((r) => setTimeout(r, 0));
    expect(session.status?.locked).toBe(false);
  });

  it('still unlocks with a 4-digit PIN set before the 6-digit rule', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, locked: true, pin: '1357' });
    const view = renderWith(Lock, session);
    expect(view.container.querySelectorAll('.dot'), 'no fixed count of slots hints at the length').toHaveLength(0);
    for (const d of '135') await fireEvent.click(screen.getByRole('button', { name: d }));
    expect(view.container.querySelectorAll('.dot.filled')).toHaveLength(3);
    expect(view.container.querySelectorAll('.dot')).toHaveLength(3);
    await enterPin('7');
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.callsOf('unlock')).toEqual([{ pin: '1357' }]);
    expect(session.status?.locked).toBe(false);
  });

  it('unlocks with a 6-digit PIN', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, locked: true, pin: '258046' });
    renderWith(Lock, session);
    await enterPin('258046');
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.callsOf('unlock')).toEqual([{ pin: '258046' }]);
    expect(session.status?.locked).toBe(false);
  });

  it('shows the wait time when the backend says to back off, and disables the pad', async () => {
    // At a limit of 5 the backend answered the third wrong PIN with a wait (as recorded).
    const { session } = await fakeSession({ enrolled: true, locked: true, pin: '2580', wipeAfter: 5 });
    renderWith(Lock, session);
    await enterPin('1111');
    expect(await screen.findByText('Wrong PIN.')).toBeTruthy();
    await enterPin('1111');
    await enterPin('1111');
    expect(await screen.findByText(/Too many wrong PINs\. Try again in 30 seconds\./)).toBeTruthy();
    expect((screen.getByRole('button', { name: '5' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('reports a wipe and drops back to enrolment', async () => {
    // The fifth wrong PIN at a limit of 5 wiped the tablet when recorded.
    const { backend, session } = await fakeSession({ enrolled: true, locked: true, pin: '2580', wipeAfter: 5 });
    backend.wrongAttempts = 4;
    renderWith(Lock, session);
    await enterPin('1111');
    await new Promise((r) => setTimeout(r, 0));
    expect(session.wiped).toBe(true);
    expect(session.status?.enrolled).toBe(false);
  });

  it('says in the worker\'s language how many tries are left, and makes a low limit wait', async () => {
    const { session } = await fakeSession({ enrolled: true, locked: true, pin: '2580', wipeAfter: 5 });
    renderWith(Lock, session);
    await enterPin('1111');
    expect((await screen.findByRole('alert')).textContent).toContain('Wrong PINs left before everything on this tablet is erased: 4.');
    await enterPin('1111');
    await enterPin('1111');
    await screen.findByText(/Wrong PINs left before everything on this tablet is erased: 2\./);
    const alert = (await screen.findByRole('alert')).textContent ?? '';
    expect(alert).toContain('Wrong PINs left before everything on this tablet is erased: 2.');
    expect(alert).not.toContain('attempts left before the local data'); // not the backend's English text
    // Two tries left: the next one waits, so three quick typos cannot erase the tablet.
    expect(await screen.findByText(/Too many wrong PINs\. Try again in 30 seconds\./)).toBeTruthy();
    expect((screen.getByRole('button', { name: '5' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('shows only the wait when the backend did not check the PIN', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, locked: true, pin: '2580', wipeAfter: 5 });
    for (let i = 0; i < 3; i++) await backend.unlock({ pin: '1111' }).catch(() => undefined);
    renderWith(Lock, session);
    await enterPin('2580');
    // The wait the backend answered (`pin_wait`, as recorded), not a wrong PIN.
    expect(await screen.findByText(/Too many wrong PINs\. Try again in 30 seconds\./)).toBeTruthy();
    expect(screen.queryByText('Wrong PIN.')).toBeNull();
  });

  it('says the tries left in Russian', async () => {
    const { session } = await fakeSession({ enrolled: true, locked: true, pin: '2580' });
    renderWith(Lock, session);
    await enterPin('1111');
    await screen.findByRole('alert');
    setLanguage('ru');
    try {
      await tick();
      expect(screen.getByRole('alert').textContent).toContain('Осталось неверных попыток до стирания всех данных планшета: 9.');
    } finally {
      setLanguage('en');
    }
  });

  it('switches worker while locked', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, locked: true, worker: 'AK' });
    renderWith(Lock, session);
    await fireEvent.click(screen.getByRole('button', { name: 'Switch worker' }));
    await fireEvent.input(screen.getByLabelText('Another name or initials'), { target: { value: ' Dana ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(await screen.findByText('Worker: Dana')).toBeTruthy();
    expect(backend.callsOf('switch_worker')).toEqual([{ worker: 'Dana' }]);
  });
});
