// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import Settings from './Settings.svelte';
import { fakeSession, renderWith } from '../test/render';
import { setLanguage } from '../i18n/index.svelte';

const TITLE = 'Wipe the tablet after wrong PINs';

function wipeGroup() {
  return screen.getByRole('radiogroup', { name: TITLE });
}

function checked(group: HTMLElement): string[] {
  return within(group)
    .getAllByRole('radio')
    .filter((b) => b.getAttribute('aria-checked') === 'true')
    .map((b) => b.textContent?.trim() ?? '');
}

afterEach(() => setLanguage('en'));

describe('settings: wipe after wrong PINs', () => {
  it('offers 3, 5, 10 and 20 with the default 10 selected, as large buttons in a titled radiogroup', async () => {
    const { session } = await fakeSession({ enrolled: true });
    renderWith(Settings, session);
    expect(screen.getByRole('heading', { name: TITLE })).toBeTruthy();
    const group = wipeGroup();
    const radios = within(group).getAllByRole('radio');
    expect(radios.map((b) => b.textContent?.trim())).toEqual(['3', '5', '10', '20']);
    for (const b of radios) expect(b.tagName).toBe('BUTTON');
    expect(checked(group)).toEqual(['10']);
    expect(screen.getByText(/Fewer is safer if the tablet is lost or seized/)).toBeTruthy();
    expect(screen.getByText('Records not yet sent are lost in a wipe, so sync often.')).toBeTruthy();
  });

  it('calls set_wipe_after with the number chosen and shows it selected', async () => {
    const { backend, session } = await fakeSession({ enrolled: true });
    renderWith(Settings, session);
    await fireEvent.click(within(wipeGroup()).getByRole('radio', { name: '5' }));
    await waitFor(() => expect(checked(wipeGroup())).toEqual(['5']));
    expect(backend.callsOf('set_wipe_after')).toEqual([{ attempts: 5 }]);
    expect(backend.state.wipe_after).toBe(5);
    expect(session.status?.wipe_after).toBe(5);
    expect(screen.queryByRole('alert')).toBeNull();

    await fireEvent.click(within(wipeGroup()).getByRole('radio', { name: '20' }));
    await waitFor(() => expect(checked(wipeGroup())).toEqual(['20']));
    expect(backend.callsOf('set_wipe_after')).toEqual([{ attempts: 5 }, { attempts: 20 }]);
  });

  it('shows a current limit that is not one of the choices, selected', async () => {
    const { session } = await fakeSession({ enrolled: true, wipeAfter: 7 });
    renderWith(Settings, session);
    const group = wipeGroup();
    expect(within(group).getAllByRole('radio').map((b) => b.textContent?.trim())).toEqual(['3', '5', '7', '10', '20']);
    expect(checked(group)).toEqual(['7']);
  });

  it('shows the error and keeps the previous choice when the backend refuses', async () => {
    const { backend, session } = await fakeSession({ enrolled: true });
    backend.failures.set('set_wipe_after', { code: 'app_locked', message: 'the app is locked: enter the PIN' });
    renderWith(Settings, session);
    await fireEvent.click(within(wipeGroup()).getByRole('radio', { name: '3' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The app is locked. Enter your PIN.');
    expect(alert.textContent).toContain('the app is locked: enter the PIN');
    expect(checked(wipeGroup())).toEqual(['10']);
    expect(backend.state.wipe_after).toBe(10);

    // The next choice clears the error.
    await fireEvent.click(within(wipeGroup()).getByRole('radio', { name: '3' }));
    await waitFor(() => expect(checked(wipeGroup())).toEqual(['3']));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('explains an invalid limit with the backend message', async () => {
    const { backend, session } = await fakeSession({ enrolled: true });
    backend.failures.set('set_wipe_after', { code: 'invalid', message: 'the tablet is wiped after 3 to 20 wrong PINs' });
    renderWith(Settings, session);
    await fireEvent.click(within(wipeGroup()).getByRole('radio', { name: '20' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('This could not be saved.');
    expect(alert.textContent).toContain('the tablet is wiped after 3 to 20 wrong PINs');
  });

  it('is translated, the choices staying plain numbers', async () => {
    const { session } = await fakeSession({ enrolled: true });
    setLanguage('uk');
    renderWith(Settings, session);
    const group = screen.getByRole('radiogroup', { name: 'Стирати дані планшета після неправильних PIN-кодів' });
    expect(within(group).getAllByRole('radio').map((b) => b.textContent?.trim())).toEqual(['3', '5', '10', '20']);
  });
});
