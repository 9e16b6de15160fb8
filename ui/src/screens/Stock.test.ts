// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Stock from './Stock.svelte';
import { fakeSession, renderWith } from '../test/render';
import { setLanguage, t } from '../i18n/index.svelte';

// The demo data: foil 80 received, 5 given out (level 75, threshold 100); 1 ml syringes 500
// received, 30 given out (level 470).

async function open() {
  const { backend, session } = await fakeSession();
  renderWith(Stock, session);
  await screen.findByRole('rowheader', { name: /^Foil/ });
  return { backend, session };
}

async function rowOf(name: RegExp) {
  return (await screen.findByRole('rowheader', { name })).closest('tr')!;
}

/** The level cell of an item's row. */
async function levelOf(name: RegExp): Promise<string> {
  return (await rowOf(name)).querySelector('.level')!.textContent!.trim();
}

async function startFromRow(name: RegExp, button: 'Receive' | 'Other movement') {
  await fireEvent.click(within(await rowOf(name)).getByRole('button', { name: button }));
}

async function chooseKind(label: string) {
  await fireEvent.click(within(screen.getByRole('radiogroup', { name: 'What happened?' })).getByRole('radio', { name: label }));
}

async function typeInto(label: string, value: string) {
  const input = screen.getByRole('textbox', { name: label });
  await fireEvent.focus(input);
  await fireEvent.input(input, { target: { value } });
  await fireEvent.blur(input);
}

const movements = (backend: Awaited<ReturnType<typeof open>>['backend']) =>
  backend.callsOf('record_stock_movement').map((c) => (c as { movement: unknown }).movement);

describe('stock', () => {
  it('flags low stock and records a delivery', async () => {
    const { backend, session } = await open();
    const foilRow = await rowOf(/^Foil/);
    expect(within(foilRow).getByText('Low')).toBeTruthy(); // level 75, threshold 100
    expect(within(foilRow).getByText('75')).toBeTruthy();

    await fireEvent.click(within(foilRow).getByRole('button', { name: 'Receive' }));
    expect(screen.getByRole('radio', { name: 'Delivery received' }).getAttribute('aria-checked')).toBe('true');
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): add 100' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): add 10' }));
    expect(screen.getByText('In stock after saving: 185')).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('Batch (optional)'), { target: { value: ' B-17 ' } });
    await fireEvent.input(screen.getByLabelText('Expiry date (optional)'), { target: { value: '2027-03-31' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save delivery' }));
    await waitFor(() => expect(backend.callsOf('record_stock_movement')).toHaveLength(1));
    expect(backend.callsOf('record_stock_movement')).toEqual([
      { movement: { commodity: 'foil', quantity: 110, kind: 'received', batch: 'B-17', expiry_date: '2027-03-31' } },
    ]);
    await waitFor(async () => expect(await levelOf(/^Foil/)).toBe('185'));
    expect(within(await rowOf(/^Foil/)).queryByText('Low')).toBeNull();
    expect(t(session.notice!.key, session.notice!.params)).toBe('Delivery saved: Foil, 110.');
    expect(screen.queryByRole('button', { name: 'Save delivery' })).toBeNull(); // the form closed
  });

  it('calls a level nothing was recorded for "not counted", and a negative one "count needed", never "Low"', async () => {
    const { backend, session } = await fakeSession();
    // Given out but never received: the level is below zero.
    backend.movements.length = 0;
    renderWith(Stock, session);
    const syringes = await rowOf(/^Syringe 1 ml/);
    expect(within(syringes).getByText('Count needed')).toBeTruthy();
    expect(within(syringes).queryByText('Low')).toBeNull();
    // Its button counts rather than receives.
    await fireEvent.click(within(syringes).getByRole('button', { name: 'Count' }));
    expect(screen.getByRole('radio', { name: 'Count correction' }).getAttribute('aria-checked')).toBe('true');
    const filters = await rowOf(/^Filter/);
    expect(within(filters).getByText('Not counted yet')).toBeTruthy();
    expect(await levelOf(/^Filter/)).toBe('—');
  });

  it('shows the expiry dates of batches that expire soon, and of those expired lately', async () => {
    const { backend, session } = await fakeSession();
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    backend.movements.push(
      { commodity: 'foil', quantity: 20, kind: 'received', batch: 'F-9', expiry_date: day(20) },
      { commodity: 'foil', quantity: 10, kind: 'received', batch: 'F-7', expiry_date: day(-3) },
      { commodity: 'foil', quantity: 10, kind: 'received', batch: 'F-12', expiry_date: day(300) },
    );
    renderWith(Stock, session);
    const foil = await rowOf(/^Foil/);
    const batches = within(foil).getAllByTestId('batch-expiry').map((e) => e.textContent?.trim());
    expect(batches).toHaveLength(2);
    expect(batches[0]).toMatch(/^Batch F-7 expired .*: write it off$/);
    expect(batches[1]).toMatch(/^Batch F-9 expires /);
  });

  it('asks a new site for its opening count and saves it in one go', async () => {
    const { backend, session } = await fakeSession();
    backend.movements.length = 0;
    renderWith(Stock, session);
    await fireEvent.click(await screen.findByRole('button', { name: 'Count your opening stock' }));
    const form = within(screen.getByRole('region', { name: 'Count your opening stock' }));
    await fireEvent.click(form.getByRole('button', { name: 'Filter: add 100' }));
    await fireEvent.click(form.getByRole('button', { name: 'Syringe 1 ml (insulin, fixed needle): add 100' }));
    await fireEvent.click(form.getByRole('button', { name: 'Save the count' }));
    await waitFor(() => expect(backend.callsOf('record_stock_count')).toHaveLength(1));
    const [{ counts }] = backend.callsOf('record_stock_count') as { counts: { commodity: string; counted: number }[] }[];
    expect(counts.find((c) => c.commodity === 'filter')).toEqual({ commodity: 'filter', counted: 100 });
    expect(counts.find((c) => c.commodity === 'syringe_1ml')).toEqual({ commodity: 'syringe_1ml', counted: 100 });
    await waitFor(async () => expect(await levelOf(/^Filter/)).toBe('100'));
    expect(t(session.notice!.key, session.notice!.params)).toMatch(/^Count saved: \d+ items corrected\.$/);
    expect(screen.queryByRole('button', { name: 'Count your opening stock' })).toBeNull();
  });

  it('records a transfer in, chosen from the header, with its grant code', async () => {
    const { backend } = await open();
    await fireEvent.click(screen.getByRole('button', { name: 'Record a movement' }));
    await fireEvent.click(screen.getByRole('button', { name: /^Safer-smoking pipe/ }));
    expect(screen.getByText('In stock on this tablet: -1')).toBeTruthy(); // one given out, none received
    await chooseKind('Transfer in');
    expect(screen.getByText('From another site: adds to stock.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): add 10' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): one more' }));
    await fireEvent.input(screen.getByLabelText('Donor or grant code (optional)'), { target: { value: 'GF-2025' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save transfer in' }));
    await waitFor(() => expect(movements(backend)).toEqual([{ commodity: 'smoking_pipe', quantity: 11, kind: 'transfer_in', grant_code: 'GF-2025' }]));
    await waitFor(async () => expect(await levelOf(/^Safer-smoking pipe/)).toBe('10'));
  });

  it('records a transfer out, taking it from the level', async () => {
    const { backend, session } = await open();
    await startFromRow(/^Syringe 1 ml/, 'Other movement');
    await chooseKind('Transfer out');
    expect(screen.queryByLabelText('Batch (optional)')).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): add 100' }));
    expect(screen.getByText('In stock after saving: 370')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Save transfer out' }));
    await waitFor(() => expect(movements(backend)).toEqual([{ commodity: 'syringe_1ml', quantity: 100, kind: 'transfer_out' }]));
    await waitFor(async () => expect(await levelOf(/^Syringe 1 ml/)).toBe('370'));
    expect(t(session.notice!.key, session.notice!.params)).toBe('Transfer out saved: Syringe 1 ml (insulin, fixed needle), 100.');
  });

  it('writes off expired or damaged stock with its batch', async () => {
    const { backend, session } = await open();
    await startFromRow(/^Syringe 1 ml/, 'Other movement');
    await chooseKind('Expired or damaged');
    expect(screen.queryByLabelText('Donor or grant code (optional)')).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): add 10' }));
    await fireEvent.input(screen.getByLabelText('Batch (optional)'), { target: { value: 'B-9' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Write off' }));
    await waitFor(() => expect(movements(backend)).toEqual([{ commodity: 'syringe_1ml', quantity: 10, kind: 'expired_damaged', batch: 'B-9' }]));
    await waitFor(async () => expect(await levelOf(/^Syringe 1 ml/)).toBe('460'));
    expect(session.notice!.key).toBe('stock.saved.expired_damaged');
  });

  it('asks for a second tap when more is lost than the tablet has in stock', async () => {
    const { backend } = await open();
    await startFromRow(/^Foil/, 'Other movement');
    await chooseKind('Lost');
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): add 100' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Write off as lost' }));
    const warning = await screen.findByText(/Only 75 in stock on this tablet, but 100 are going out. The level will become -25./);
    expect(warning).toBeTruthy();
    expect(backend.callsOf('record_stock_movement')).toEqual([]);

    // Changing the number takes the confirmation away; within the level, one tap saves.
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): one less' }));
    expect(screen.queryByRole('button', { name: 'Save anyway' })).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): one more' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Write off as lost' }));
    await fireEvent.click(await screen.findByRole('button', { name: 'Save anyway' }));
    await waitFor(() => expect(movements(backend)).toEqual([{ commodity: 'foil', quantity: 100, kind: 'lost' }]));
    await waitFor(async () => expect(await levelOf(/^Foil/)).toBe('-25'));
  });

  it('records a count as the difference from the level, shown before saving', async () => {
    const { backend, session } = await open();
    await startFromRow(/^Foil/, 'Other movement');
    await chooseKind('Count correction');
    // The counted quantity starts at the level: nothing to correct yet.
    expect(screen.getByRole('textbox', { name: 'Counted quantity' })).toHaveProperty('value', '75');
    expect(screen.getByText('The tablet shows 75, you counted 75: the correction is 0.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Save correction' }));
    expect(await screen.findByText('The count matches the stock level: there is nothing to correct.')).toBeTruthy();
    expect(backend.callsOf('record_stock_movement')).toEqual([]);

    for (let i = 0; i < 3; i++) await fireEvent.click(screen.getByRole('button', { name: 'Counted quantity: one less' }));
    expect(screen.getByText('The tablet shows 75, you counted 72: the correction is -3.')).toBeTruthy();
    expect(screen.queryByText(/nothing to correct/)).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Save correction' }));
    await waitFor(() => expect(movements(backend)).toEqual([{ commodity: 'foil', quantity: -3, kind: 'count_correction' }]));
    await waitFor(async () => expect(await levelOf(/^Foil/)).toBe('72'));
    expect(t(session.notice!.key, session.notice!.params)).toBe('Count saved: Foil, corrected by -3.');
  });

  it('records a count above the level and above 10 000', async () => {
    const { backend } = await open();
    await startFromRow(/^Alcohol swab/, 'Other movement');
    await chooseKind('Count correction');
    await typeInto('Counted quantity', '12500');
    expect(screen.getByText('The tablet shows 970, you counted 12,500: the correction is +11,530.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Save correction' }));
    await waitFor(() => expect(movements(backend)).toEqual([{ commodity: 'alcohol_swab', quantity: 11_530, kind: 'count_correction' }]));
    await waitFor(async () => expect(await levelOf(/^Alcohol swab/)).toBe('12,500'));
  });

  it('says what is missing instead of saving', async () => {
    const { backend } = await open();
    await fireEvent.click(screen.getByRole('button', { name: 'Record a movement' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Choose the item.')).toBeTruthy();

    await fireEvent.click(screen.getByRole('button', { name: /^Foil/ }));
    expect(screen.queryByText('Choose the item.')).toBeNull(); // a new choice starts without complaints
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Choose what happened.')).toBeTruthy();

    await chooseKind('Transfer out');
    await fireEvent.click(screen.getByRole('button', { name: 'Save transfer out' }));
    expect(await screen.findByText('Enter a quantity between 1 and 100,000.')).toBeTruthy(); // zero

    // Not a quantity: the text stays with its message (the quantity is still 0), and Save says
    // to correct it first instead of saving anything.
    await typeInto('Quantity (pieces)', '-5');
    expect(screen.getByRole('textbox', { name: 'Quantity (pieces)' })).toHaveProperty('value', '-5');
    expect(screen.getByText('Type a whole number.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Save transfer out' }));
    expect(await screen.findByText(/A number above is not right/)).toBeTruthy();

    await chooseKind('Delivery received');
    await typeInto('Quantity (pieces)', '999999'); // clamped to the most one movement may have
    expect(screen.getByRole('textbox', { name: 'Quantity (pieces)' })).toHaveProperty('value', '100,000');
    expect(backend.callsOf('record_stock_movement')).toEqual([]);
    await fireEvent.click(screen.getByRole('button', { name: 'Save delivery' }));
    await waitFor(() => expect(movements(backend)).toEqual([{ commodity: 'foil', quantity: 100_000, kind: 'received' }]));
  });

  it('keeps the form open and shows the error when saving fails', async () => {
    const { backend } = await open();
    backend.failures.set('record_stock_movement', { code: 'invalid', message: 'quantity: out of range' });
    await startFromRow(/^Foil/, 'Receive');
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): one more' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save delivery' }));
    expect(await screen.findByText(/quantity: out of range/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Save delivery' })).toBeTruthy();
    expect(await levelOf(/^Foil/)).toBe('75');
  });

  it('speaks Ukrainian', async () => {
    const { session } = await fakeSession();
    setLanguage('uk');
    renderWith(Stock, session);
    await fireEvent.click(within(await rowOf(/^Фольга/)).getByRole('button', { name: 'Інший рух' }));
    await fireEvent.click(screen.getByRole('radio', { name: 'Виправлення за перерахунком' }));
    expect(screen.getByText('На планшеті 75, нараховано 75: виправлення 0.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Зберегти виправлення' })).toBeTruthy();
    setLanguage('en');
  });
});
