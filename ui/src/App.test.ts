// @vitest-environment happy-dom
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import { FakeBackend } from './lib/fakeBackend';
import { language, setLanguage } from './i18n/index.svelte';

afterEach(() => {
  vi.useRealTimers();
  setLanguage('en');
});

async function unlock(pin: string) {
  for (const d of pin) await fireEvent.click(await screen.findByRole('button', { name: d }));
  await fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
}

describe('app', () => {
  it('starts on enrolment when the device is not enrolled', async () => {
    render(App, { props: { backend: new FakeBackend() } });
    expect(await screen.findByRole('heading', { name: 'Connect this tablet' })).toBeTruthy();
  });

  it('says why enrolment is needed again after a wipe', async () => {
    // The fifth wrong PIN at a limit of 5 wiped the tablet when recorded.
    const backend = new FakeBackend({ enrolled: true, locked: true, pin: '2580', wipeAfter: 5 });
    backend.wrongAttempts = 4;
    render(App, { props: { backend } });
    await unlock('1111');
    expect(await screen.findByRole('heading', { name: 'Connect this tablet' })).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toContain('erased after too many wrong PINs');
  });

  it('unlocks to the home screen, with the sync bar, and follows the backend language', async () => {
    const backend = new FakeBackend({ enrolled: true, locked: true, demo: true, language: 'ru' });
    render(App, { props: { backend } });
    expect(await screen.findByRole('heading', { name: 'Заблокировано' })).toBeTruthy();
    expect(language()).toBe('ru');
    for (const d of '2580') await fireEvent.click(screen.getByRole('button', { name: d }));
    await fireEvent.click(screen.getByRole('button', { name: 'Открыть' }));
    expect(await screen.findByRole('heading', { name: 'Что вы хотите сделать?' })).toBeTruthy();
    expect(screen.getByText('К отправке: 3')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: /Быстрая запись у окна/ }));
    expect(await screen.findByLabelText('Код клиента')).toBeTruthy();
  });

  it("shows a screen's action bar below the scrolling page and a notice in the status bar, over nothing", async () => {
    const backend = new FakeBackend({ enrolled: true, locked: false, demo: true });
    const { container } = render(App, { props: { backend } });
    await fireEvent.click(await screen.findByRole('button', { name: /Window quick-log/ }));
    await fireEvent.input(await screen.findByLabelText('Client code'), { target: { value: 'MAIV2' } });
    await fireEvent.click(await screen.findByRole('button', { name: /^MAIV287/ }));
    const confirm = await screen.findByRole('button', { name: 'Confirm for MAIV287' });
    const page = container.querySelector('#page')!;
    const footer = container.querySelector('.footer')!;
    expect(page.contains(confirm)).toBe(false);
    expect(footer.contains(confirm)).toBe(true);
    await fireEvent.click(confirm);
    const notice = await screen.findByText('Saved for MAIV287.');
    expect(container.querySelector('.bar')!.contains(notice)).toBe(true);
    // The bar is gone with the client; another screen opened later shows no stale notice.
    await waitFor(() => expect(container.querySelector('.footer')).toBeNull());
    await fireEvent.click(screen.getByRole('button', { name: /Home/ }));
    expect(screen.queryByText('Saved for MAIV287.')).toBeTruthy(); // raised just now: it follows
  });

  it('locks itself after the configured idle minutes', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const backend = new FakeBackend({ enrolled: true, locked: true, demo: true });
    backend.state.idle_lock_minutes = 2;
    render(App, { props: { backend } });
    await unlock('2580');
    await screen.findByRole('heading', { name: 'What do you want to do?' });

    vi.advanceTimersByTime(90_000);
    await fireEvent.pointerDown(document.body);
    vi.advanceTimersByTime(90_000);
    expect(backend.callsOf('lock')).toEqual([]);

    vi.advanceTimersByTime(31_000);
    await waitFor(() => expect(backend.callsOf('lock')).toHaveLength(1));
    expect(await screen.findByRole('heading', { name: 'Locked' })).toBeTruthy();
  });

  it('shows sync progress and the result of "Sync now"', async () => {
    const backend = new FakeBackend({ enrolled: true, demo: true });
    render(App, { props: { backend, initialScreen: 'sync' } });
    await fireEvent.click(await screen.findByRole('button', { name: 'Sync now' }));
    expect(await screen.findByText('Sync finished. Sent: 3. Received: 40.')).toBeTruthy();
    expect(screen.getByText('To send: 0')).toBeTruthy();
  });

  it('explains a revoked device', async () => {
    const backend = new FakeBackend({ enrolled: true, demo: true });
    backend.state.sync_state = 'error';
    backend.state.sync_error = { code: 'device_revoked', message: 'revoked by coordinator' };
    render(App, { props: { backend, initialScreen: 'sync' } });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('This tablet was disconnected by the coordinator');
    expect(alert.textContent).toContain('Ask your coordinator for a new enrolment code.');
    expect(alert.textContent).toContain('revoked by coordinator');
    // The sync bar says it on every screen too.
    expect(screen.getByRole('button', { name: /disconnected by the coordinator/ })).toBeTruthy();
  });

  it('reads an empty catalogue once instead of asking again and again', async () => {
    const backend = new FakeBackend({ enrolled: true });
    backend.commodityList = [];
    backend.kits = [];
    render(App, { props: { backend } });
    await screen.findByRole('heading', { name: 'What do you want to do?' });
    await new Promise((r) => setTimeout(r, 50));
    expect(backend.callsOf('commodities')).toHaveLength(1);
  });
});
