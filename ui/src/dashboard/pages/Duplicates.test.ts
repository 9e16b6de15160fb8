// @vitest-environment happy-dom
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { setLanguage } from '../../i18n/index.svelte';
import { ApiError } from '../api';
import Dashboard from '../Dashboard.svelte';
import { FakeDashboardApi } from '../fakeApi';
import { demoClientId as id } from '../fakeData';
import { dashboardOn, NOW, renderPage } from '../testing';
import Duplicates from './Duplicates.svelte';

const DAY = 86_400_000;
const pairs = () => screen.queryAllByTestId('duplicate-pair');
const mergeRows = () => screen.queryAllByTestId('merge-row');
const text = (el: HTMLElement) => el.textContent?.replace(/\s+/g, ' ').trim();
const codes = (testid: 'pair-keep-code' | 'pair-merge-code') => pairs().map((p) => within(p).getByTestId(testid).textContent);
/** The card of the pair whose record kept and record merged have these codes. */
const pairOf = (keep: string, merge: string) =>
  pairs().find((p) => within(p).getByTestId('pair-keep-code').textContent === keep && within(p).getByTestId('pair-merge-code').textContent === merge)!;

async function openReview(options?: Parameters<typeof dashboardOn>[0]) {
  const { api, state } = await dashboardOn(options);
  renderPage(Duplicates, state);
  await waitFor(() => expect(screen.getByTestId('page-duplicates').dataset.loading).toBe('false'));
  return { api, state };
}

afterEach(() => setLanguage('en'));

describe('the duplicates page', () => {
  it('lists likely pairs strongest first: the codes with the slip marked, why, and where both were seen', async () => {
    await openReview();
    expect(pairs()).toHaveLength(4);
    expect(pairs().map((p) => p.dataset.reason)).toEqual(['same_code', 'near_code', 'near_code', 'near_code']);
    expect(codes('pair-keep-code')).toEqual(['MAIV287', 'MAIV287', 'OLPE290', 'MAIV287']);
    expect(codes('pair-merge-code')).toEqual(['MAIV287', 'MAIV288', 'OLEP290', 'MAIV288']);
    expect(screen.getByTestId('duplicates-count').textContent?.trim()).toBe('4 pairs to review');

    const [same, , swapped, apart] = pairs();
    expect(within(same).getByTestId('pair-reason').textContent?.trim()).toBe('Same code');
    expect(within(same).getByTestId('pair-shared').textContent?.trim()).toBe('Both seen at: Street outreach team');
    expect(within(swapped).getByTestId('pair-reason').textContent?.trim()).toBe('Codes one slip apart');
    expect(within(apart).queryByTestId('pair-shared')).toBeNull();
    // The slip is marked: two letters swapped.
    expect(within(swapped).getByTestId('pair-keep-code').querySelector('mark')?.textContent).toBe('PE');
    expect(within(swapped).getByTestId('pair-merge-code').querySelector('mark')?.textContent).toBe('EP');
    expect(within(same).getByTestId('pair-keep-code').querySelector('mark')).toBeNull();

    // Each record as a coordinator judges it; the one suggested to keep is marked.
    const kept = within(same).getByRole('region', { name: 'Keep' });
    const firstSeen = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' }).format(new Date(NOW - 420 * DAY));
    expect(text(kept)).toContain(`Gender Woman`);
    expect(text(kept)).toContain('Year of birth 1987');
    expect(text(kept)).toContain('Registered at Drop-in centre');
    expect(text(kept)).toContain(`First seen ${firstSeen}`);
    expect(text(kept)).toContain('Contacts 23');
    expect(text(kept)).toContain('Seen at Drop-in centre, Street outreach team');
    const other = within(same).getByRole('region', { name: 'Merge into the kept record' });
    expect(text(other)).toContain('Registered at Street outreach team');
    expect(text(other)).toContain('Contacts 3');

    // The merges in force, newest first, for undoing.
    expect(mergeRows()).toHaveLength(1);
    expect(text(mergeRows()[0])).toContain('ZAHN188 → merged into ZHAN188');
    expect(text(mergeRows()[0])).toContain('Street outreach team → Drop-in centre');
    expect(text(mergeRows()[0])).toContain('Merged 3 days ago');
  });

  it('merges only after a confirmation that says what happens, then offers the undo', async () => {
    const { api } = await openReview();
    const first = pairs()[0];
    await fireEvent.click(within(first).getByTestId('pair-merge'));
    // The same code twice: the records are told apart by where each was registered.
    expect(
      within(first).getByText(
        "MAIV287 (Street outreach team)'s history will count as MAIV287 (Drop-in centre)'s: one person in every report, and on every tablet at its next sync. You can undo this below.",
      ),
    ).toBeTruthy();
    await fireEvent.click(within(first).getByRole('button', { name: 'Cancel' }));
    expect(within(first).queryByTestId('pair-confirm-merge')).toBeNull();
    expect(api.callsOf('mergeClients')).toEqual([]);

    await fireEvent.click(within(first).getByTestId('pair-merge'));
    await fireEvent.click(within(first).getByTestId('pair-confirm-merge'));
    await waitFor(() => expect(mergeRows()).toHaveLength(2));
    expect(api.callsOf('mergeClients')).toEqual([[{ keep: id('a1'), merge: id('a2') }]]);
    // The pair is gone, and so is every other pair of the record merged away.
    expect(codes('pair-keep-code')).toEqual(['MAIV287', 'OLPE290']);
    expect(codes('pair-merge-code')).toEqual(['MAIV288', 'OLEP290']);
    expect(screen.getByTestId('duplicates-done').textContent).toBe('Merged: MAIV287 (Street outreach team) now counts as MAIV287 (Drop-in centre). Undo is below.');
    expect(document.activeElement).toBe(screen.getByTestId('duplicates-done'));
    expect(text(mergeRows()[0])).toContain('MAIV287 → merged into MAIV287');
    expect(text(mergeRows()[0])).toContain('Merged just now');
  });

  it('keeps the other record on request: the merge sends the ids swapped', async () => {
    const { api } = await openReview();
    const card = pairOf('OLPE290', 'OLEP290');
    await fireEvent.click(within(card).getByTestId('pair-swap'));
    expect(within(card).getByTestId('pair-keep-code').textContent).toBe('OLEP290');
    expect(within(card).getByTestId('pair-merge-code').textContent).toBe('OLPE290');
    expect(text(within(card).getByRole('region', { name: 'Keep' }))).toContain('Registered at Drop-in centre');

    await fireEvent.click(within(card).getByTestId('pair-merge'));
    expect(within(card).getByText(/^OLPE290's history will count as OLEP290's/)).toBeTruthy();
    await fireEvent.click(within(card).getByTestId('pair-confirm-merge'));
    await waitFor(() => expect(pairs()).toHaveLength(3));
    expect(api.callsOf('mergeClients')).toEqual([[{ keep: id('b2'), merge: id('b1') }]]);
    expect(screen.getByTestId('duplicates-done').textContent).toBe('Merged: OLPE290 now counts as OLEP290. Undo is below.');

    // Swapping twice is the suggestion again.
    const next = pairs()[0];
    await fireEvent.click(within(next).getByTestId('pair-swap'));
    await fireEvent.click(within(next).getByTestId('pair-swap'));
    expect(within(next).getByTestId('pair-keep-code').textContent).toBe('MAIV287');
  });

  it('undoes a merge after a confirmation: the pair is offered again', async () => {
    const { api } = await openReview();
    await fireEvent.click(within(pairs()[0]).getByTestId('pair-merge'));
    await fireEvent.click(screen.getByTestId('pair-confirm-merge'));
    await waitFor(() => expect(mergeRows()).toHaveLength(2));

    const row = mergeRows()[0];
    await fireEvent.click(within(row).getByTestId('merge-undo'));
    expect(within(row).getByText(/^Undo this merge\? MAIV287 \(Street outreach team\) and MAIV287 \(Drop-in centre\) become two records again/)).toBeTruthy();
    await fireEvent.click(within(row).getByRole('button', { name: 'Keep the merge' }));
    expect(api.callsOf('undoMerge')).toEqual([]);

    await fireEvent.click(within(row).getByTestId('merge-undo'));
    await fireEvent.click(within(row).getByTestId('merge-confirm-undo'));
    await waitFor(() => expect(pairs()).toHaveLength(4));
    expect(api.callsOf('undoMerge')).toEqual([[api.people.merges.at(-1)!.id]]);
    expect(mergeRows()).toHaveLength(1);
    expect(codes('pair-keep-code')[0]).toBe('MAIV287');
    expect(screen.getByTestId('duplicates-done').textContent).toBe('Merge undone: MAIV287 (Street outreach team) and MAIV287 (Drop-in centre) are two records again.');
  });

  it('judges a pair to be two people after a confirmation; it is not offered again', async () => {
    const { api, state } = await openReview();
    const card = pairOf('MAIV287', 'MAIV288');
    await fireEvent.click(within(card).getByTestId('pair-dismiss'));
    expect(within(card).getByText('Mark MAIV287 and MAIV288 as two different people? This pair will not be offered again.')).toBeTruthy();
    await fireEvent.click(within(card).getByTestId('pair-confirm-dismiss'));
    await waitFor(() => expect(pairs()).toHaveLength(3));
    expect(api.callsOf('dismissDuplicate')).toEqual([[{ a: id('a1'), b: id('a3') }]]);
    expect(screen.getByTestId('duplicates-done').textContent).toBe('Marked as two people: MAIV287 and MAIV288.');

    document.body.innerHTML = '';
    renderPage(Duplicates, state);
    await waitFor(() => expect(pairs()).toHaveLength(3));
    expect(codes('pair-merge-code')).toEqual(['MAIV287', 'OLEP290', 'MAIV288']);
  });

  it('says when someone else merged the pair first, and shows the review as it is now', async () => {
    const { api } = await openReview();
    // Another coordinator merges the same two records meanwhile.
    await api.mergeClients({ keep: id('a1'), merge: id('a2') });
    await fireEvent.click(within(pairs()[0]).getByTestId('pair-merge'));
    await fireEvent.click(screen.getByTestId('pair-confirm-merge'));
    const error = await screen.findByTestId('page-error');
    expect(error.dataset.code).toBe('clash');
    expect(error.textContent).toContain('This clashes with what is already there.');
    expect(error.textContent).toContain('these two records are one person already');
    await waitFor(() => expect(pairs()).toHaveLength(2));
    expect(api.callsOf('duplicates')).toHaveLength(2);
    expect(mergeRows()).toHaveLength(2);
    // The pair is gone: the error stays in view above the list.
    const shown = screen.getByTestId('page-error');
    expect(shown.closest('[data-testid="duplicate-pair"]')).toBeNull();
    expect(shown.textContent).toContain('these two records are one person already');
    expect(screen.getByText('The list has been reloaded: it had changed in the meantime.')).toBeTruthy();
    expect(screen.queryByTestId('duplicates-done')).toBeNull();
  });

  it('shows an error on the card it concerns, and can act again', async () => {
    const { api } = await openReview();
    api.failNext.dismissDuplicate = new ApiError(503, 'audit_unavailable', 'the audit log cannot be written');
    const card = pairs()[1];
    await fireEvent.click(within(card).getByTestId('pair-dismiss'));
    await fireEvent.click(within(card).getByTestId('pair-confirm-dismiss'));
    const error = await within(card).findByTestId('page-error');
    expect(error.textContent).toContain('Nothing was changed: the audit log cannot be written right now.');
    expect(api.callsOf('duplicates')).toHaveLength(1); // nothing changed elsewhere: no reload
    // The confirmation is still there, to try again.
    await fireEvent.click(within(card).getByTestId('pair-confirm-dismiss'));
    await waitFor(() => expect(pairs()).toHaveLength(3));
    expect(screen.queryByTestId('page-error')).toBeNull();
  });

  it('says when a merge was undone already, and reloads', async () => {
    const { api } = await openReview();
    const mergeId = api.people.merges.find((m) => m.from === id('e2'))!.id;
    await api.undoMerge(mergeId); // someone else undid it
    await fireEvent.click(within(mergeRows()[0]).getByTestId('merge-undo'));
    await fireEvent.click(screen.getByTestId('merge-confirm-undo'));
    const error = await screen.findByTestId('page-error');
    expect(error.textContent).toContain('this merge was undone already');
    await waitFor(() => expect(mergeRows()).toHaveLength(0));
    expect(screen.queryByTestId('merges')).toBeNull();
    // The two records are a pair to review again.
    expect(pairOf('ZHAN188', 'ZAHN188')).toBeTruthy();
  });

  it('says when there is nothing to review', async () => {
    const { api, state } = await dashboardOn();
    api.people.candidates = [];
    renderPage(Duplicates, state);
    expect((await screen.findByTestId('duplicates-none')).textContent).toBe('No likely duplicates: nothing to review.');
    expect(screen.queryByTestId('duplicates-count')).toBeNull();
    expect(mergeRows()).toHaveLength(1); // merges can still be undone
  });

  it('says when only the strongest pairs are shown', async () => {
    const { api, state } = await dashboardOn();
    api.maxPairs = 2;
    renderPage(Duplicates, state);
    await waitFor(() => expect(pairs()).toHaveLength(2));
    const count = screen.getByTestId('duplicates-count');
    expect(count.textContent?.trim()).toBe('Showing the 2 strongest of 4 likely duplicates: merge or dismiss to see more.');
    expect(count.dataset.total).toBe('4');
  });

  it('shows admins every site, with "—" for what is not known and differences marked', async () => {
    await openReview({ signedInAs: 'admin' });
    expect(pairs()).toHaveLength(5);
    expect(mergeRows()).toHaveLength(2);
    const van = pairOf('KOSE295', 'KOSE295');
    const other = within(van).getByRole('region', { name: 'Merge into the kept record' });
    expect(text(other)).toContain('First seen —');
    expect(text(other)).toContain('Last seen —');
    expect(text(other)).toContain('Seen at —');
    expect(text(other)).toContain('Contacts 0');
    const kept = within(van).getByRole('region', { name: 'Keep' });
    expect(text(kept)).toContain('Gender Not stated');
    expect(text(kept)).toContain('Year of birth —');
    expect(kept.querySelectorAll('dd.differs')).toHaveLength(2);
  });

  it('speaks the dashboard language', async () => {
    const { state } = await dashboardOn();
    setLanguage('ru');
    renderPage(Duplicates, state);
    await waitFor(() => expect(pairs()).toHaveLength(4));
    expect(within(pairs()[0]).getByTestId('pair-reason').textContent?.trim()).toBe('Одинаковый код');
    expect(text(within(pairs()[0]).getByRole('region', { name: 'Оставить' }))).toContain('Женщина');
    expect(screen.getByTestId('duplicates-count').textContent?.trim()).toBe('4 пары для проверки');
  });

  it('is in the navigation for coordinators', async () => {
    setLanguage('en');
    render(Dashboard, { props: { api: new FakeDashboardApi({ nowMs: NOW, signedInAs: 'coordinator' }), useAddress: false, nowMs: NOW } });
    await fireEvent.click(await screen.findByTestId('nav-duplicates'));
    expect(await screen.findByTestId('page-duplicates')).toBeTruthy();
    expect(screen.getByTestId('page-title').textContent).toBe('Duplicates');
    await waitFor(() => expect(pairs()).toHaveLength(4));
  });
});

describe("the fake server's duplicate review", () => {
  it('refuses as the server does', async () => {
    const api = new FakeDashboardApi({ nowMs: NOW, signedInAs: 'coordinator' });
    await expect(api.mergeClients({ keep: id('a1'), merge: id('a1') })).rejects.toMatchObject({ status: 422, code: 'invalid_field' });
    await expect(api.mergeClients({ keep: 'MAIV287', merge: id('a1') })).rejects.toMatchObject({ status: 422, code: 'invalid_field' });
    await expect(api.mergeClients({ keep: id('a1'), merge: id('99') })).rejects.toMatchObject({ status: 404, code: 'not_found' });
    // The van is not the coordinator's site.
    await expect(api.mergeClients({ keep: id('a1'), merge: id('d1') })).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    // ZAHN188 is part of ZHAN188 already.
    await expect(api.mergeClients({ keep: id('e1'), merge: id('e2') })).rejects.toMatchObject({ status: 409, code: 'clash' });
    await expect(api.mergeClients({ keep: id('a1'), merge: id('e2') })).rejects.toMatchObject({ status: 409, code: 'clash' });
    await expect(api.undoMerge('no-such-merge')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(api.dismissDuplicate({ a: id('a1'), b: id('a1') })).rejects.toMatchObject({ status: 422, code: 'invalid_field' });

    const review = await api.mergeClients({ keep: id('a1'), merge: id('a2') });
    const merge = review.merges[0];
    expect([merge.merged.id, merge.kept.id, merge.merged_at_ms]).toEqual([id('a2'), id('a1'), NOW]);
    await api.undoMerge(merge.id);
    await expect(api.undoMerge(merge.id)).rejects.toMatchObject({ status: 409, code: 'clash' });
  });
});
