// @vitest-environment happy-dom
import { fireEvent, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Sync from './Sync.svelte';
import { fakeSession, renderWith } from '../test/render';
import { format, setLanguage } from '../i18n/index.svelte';

describe('sync screen', () => {
  it('offers to connect again with a new code when access expired, keeping the data', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, demo: true });
    backend.state.sync_error = { code: 'token_expired', message: 'expired' };
    backend.state.sync_state = 'error';
    await session.refresh();
    renderWith(Sync, session);
    expect(await screen.findByText('Connect this tablet again')).toBeTruthy();
    const input = screen.getByPlaceholderText('XXXX-XXXX-XXXX') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'abcd efgh jk23' } });
    expect(input.value).toBe('ABCD-EFGH-JK23');
    await fireEvent.click(screen.getByRole('button', { name: 'Connect again' }));
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.callsOf('re_enroll')).toEqual([{ code: 'ABCD-EFGH-JK23' }]);
    expect(await screen.findByText(/connected again/)).toBeTruthy();
  });

  it('refuses a code of the wrong length without calling the backend', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, demo: true });
    backend.state.sync_error = { code: 'token_expired', message: 'expired' };
    await session.refresh();
    renderWith(Sync, session);
    const input = (await screen.findByPlaceholderText('XXXX-XXXX-XXXX')) as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'ABCD' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect again' }));
    expect(await screen.findByText('The enrolment code has 12 letters and digits.')).toBeTruthy();
    expect(backend.callsOf('re_enroll')).toEqual([]);
  });

  it('lists what the server refused and why, newest first', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, demo: true });
    backend.addRejected({
      code: 'out_of_range',
      collection: 'distribution_lines',
      kind: 'create',
      at_ms: Date.UTC(2026, 10, 24, 9, 30),
      message: 'quantity: must be between 1 and 10000, got 20000',
      summary: 'commodity: syringe_1ml, quantity: 20000',
    });
    backend.addRejected({
      code: 'record_purged',
      collection: 'contacts',
      kind: 'update',
      at_ms: Date.UTC(2026, 10, 25, 14, 5),
      message: 'the record was deleted and cleaned up',
      summary: 'note: —',
    });
    backend.addRejected({ code: 'clock_from_the_future', collection: 'surveys_v9', kind: 'delete', message: 'stamp far ahead of the server' });
    await session.refresh();
    renderWith(Sync, session);

    expect(await screen.findByText(/Records refused by the server: 3/)).toBeTruthy();
    expect(backend.callsOf('rejected_changes')).toEqual([]);
    await fireEvent.click(screen.getByRole('button', { name: 'Show refused changes' }));

    expect(await screen.findByRole('heading', { name: 'Refused changes: 3' })).toBeTruthy();
    expect(screen.getByText(/not sent again/)).toBeTruthy();
    expect(screen.getByText(/coordinator can see them here/)).toBeTruthy();
    const items = within(screen.getByRole('list', { name: 'Refused changes: 3' })).getAllByRole('listitem');
    expect(items).toHaveLength(3);
    const [unknown, purged, invalid] = items;

    // Newest first; the kind of record and of change in the worker's language.
    expect(within(purged).getByRole('heading', { name: 'Contact' })).toBeTruthy();
    expect(within(purged).getByText('Change to a record')).toBeTruthy();
    expect(
      within(purged).getByText(
        'This record was deleted on another tablet long ago; your change was kept here for the coordinator.',
      ),
    ).toBeTruthy();
    expect(within(purged).getByText('note: —')).toBeTruthy();
    expect(within(purged).getByText(format.dateTime(Date.UTC(2026, 10, 25, 14, 5)))).toBeTruthy();

    expect(within(invalid).getByRole('heading', { name: 'Distribution' })).toBeTruthy();
    expect(within(invalid).getByText('New record')).toBeTruthy();
    expect(within(invalid).getByText('commodity: syringe_1ml, quantity: 20000')).toBeTruthy();
    expect(within(invalid).getByText(/did not accept a value/)).toBeTruthy();
    expect(within(invalid).getByText(/must be between 1 and 10000/)).toBeTruthy();

    // An unknown code: the server's own message; an unknown kind of record: its name.
    expect(within(unknown).getByRole('heading', { name: 'surveys_v9' })).toBeTruthy();
    expect(within(unknown).getByText('Deletion of a record')).toBeTruthy();
    expect(within(unknown).getByText('The server refused this change: stamp far ahead of the server')).toBeTruthy();
    expect(within(unknown).queryByText(/deleted on another tablet|did not accept a value/)).toBeNull();
    expect(within(unknown).queryByText('What was sent')).toBeNull();

    await fireEvent.click(screen.getByRole('button', { name: 'Hide refused changes' }));
    expect(screen.queryByRole('list', { name: 'Refused changes: 3' })).toBeNull();
    expect(backend.callsOf('rejected_changes')).toHaveLength(1);
  });

  it('explains refused changes in Russian and Ukrainian too', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, demo: true });
    backend.addRejected({ code: 'record_purged', collection: 'referrals', kind: 'update', message: 'purged' });
    await session.refresh();
    setLanguage('uk');
    renderWith(Sync, session);
    await fireEvent.click(await screen.findByRole('button', { name: 'Показати відхилені зміни' }));
    expect(await screen.findByText(/давно видалили на іншому планшеті/)).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Направлення' })).toBeTruthy();
    setLanguage('ru');
    expect(await screen.findByText(/давно удалили на другом планшете/)).toBeTruthy();
    setLanguage('en');
  });

  it('offers no list while nothing was refused, and says so when the list cannot be read', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, demo: true });
    const { unmount } = renderWith(Sync, session);
    expect(await screen.findByRole('button', { name: 'Sync now' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Show refused changes' })).toBeNull();
    unmount();

    backend.addRejected({ code: 'unknown_record', message: 'no such record' });
    backend.failures.set('rejected_changes', { code: 'app_locked', message: 'the app is locked: enter the PIN' });
    await session.refresh();
    renderWith(Sync, session);
    await fireEvent.click(await screen.findByRole('button', { name: 'Show refused changes' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/enter the PIN/);
    await fireEvent.click(screen.getByRole('button', { name: 'Hide refused changes' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Show refused changes' }));
    expect(await screen.findByText(/The server does not have this record/)).toBeTruthy();
  });
});
