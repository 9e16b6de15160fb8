// @vitest-environment happy-dom
import { fireEvent, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Sync from './Sync.svelte';
import { fakeSession, renderWith } from '../test/render';

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
});
