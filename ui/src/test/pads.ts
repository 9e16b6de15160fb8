/** Test helpers for the in-app pads (YearPicker, CodePad), tapped as a worker would. */
import { fireEvent, screen, within } from '@testing-library/svelte';
import { decadeLabel } from '../lib/logic/pads';

/** Picks `year` in the year picker labelled `label`: its decade (unless chosen), then the year. */
export async function pickYear(label: string | RegExp, year: string): Promise<void> {
  const picker = within(screen.getByRole('group', { name: label }));
  const decade = picker.getByRole('radio', { name: decadeLabel(Math.floor(Number(year) / 10) * 10) });
  if (decade.getAttribute('aria-checked') !== 'true') await fireEvent.click(decade);
  await fireEvent.click(picker.getByRole('radio', { name: year }));
}

/** Types `code` on the code pad, key by key. */
export async function tapCode(code: string): Promise<void> {
  const pad = within(screen.getByRole('group', { name: 'Client code keys' }));
  for (const key of code) await fireEvent.click(pad.getByRole('button', { name: key }));
}
