// @vitest-environment happy-dom
import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import Stepper from './Stepper.svelte';
import { setLanguage } from '../i18n/index.svelte';

function stepper(props: { value: number; min?: number; max?: number; ceiling?: number }) {
  const changes: number[] = [];
  render(Stepper, { props: { label: 'Doses', ...props, onchange: (v: number) => changes.push(v) } });
  const input = screen.getByRole('textbox', { name: 'Doses' }) as HTMLInputElement;
  const message = () => screen.getByRole('status').textContent?.trim() ?? '';
  return { input, message, changes };
}

async function type(input: HTMLInputElement, text: string) {
  await fireEvent.focus(input);
  await fireEvent.input(input, { target: { value: text } });
}

describe('a typed number the stepper cannot keep', () => {
  afterEach(() => setLanguage('en'));

  it('above the top: shows the top at once and says the typed number was changed', async () => {
    const { input, message, changes } = stepper({ value: 2, max: 50 });
    expect(message()).toBe('');
    await type(input, '60');
    expect(input.value).toBe('50');
    expect(changes).toEqual([50]);
    expect(message()).toBe('At most 50: 60 was changed to 50.');
    await fireEvent.blur(input);
    expect(input.value).toBe('50');
    expect(message()).toBe('At most 50: 60 was changed to 50.');
    expect(input.getAttribute('aria-describedby')).toBe(screen.getByRole('status').id);
  });

  it('below the bottom: keeps the typed number and says so, also after the field is left', async () => {
    const { input, message, changes } = stepper({ value: 5, min: 1, max: 20 });
    await type(input, '0');
    expect(message()).toBe('At least 1.');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(changes).toEqual([]);
    await fireEvent.blur(input);
    expect(input.value).toBe('0');
    expect(changes).toEqual([]);
    expect(message()).toBe('At least 1.');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    await fireEvent.click(screen.getByRole('button', { name: 'Doses: one more' }));
    expect(input.value).toBe('1');
    expect(changes).toEqual([1]);
    expect(message()).toBe('');
    expect(input.getAttribute('aria-invalid')).toBe('false');
  });

  it('not a whole number: keeps the text and the previous value, and says so until corrected', async () => {
    const { input, message, changes } = stepper({ value: 12 });
    await type(input, '4.5');
    expect(message()).toBe('Type a whole number.');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    await fireEvent.blur(input);
    expect(input.value).toBe('4.5');
    expect(changes).toEqual([]);
    expect(message()).toBe('Type a whole number.');
    await type(input, '');
    expect(message()).toBe('Type a whole number.');
    await type(input, '7');
    expect(changes).toEqual([7]);
    expect(message()).toBe('');
    await fireEvent.blur(input);
    expect(input.value).toBe('7');
  });

  it('the message goes once the value changes again', async () => {
    const { input, message } = stepper({ value: 2, max: 50 });
    await type(input, '75');
    await fireEvent.blur(input);
    expect(message()).toMatch(/^At most 50/);
    await fireEvent.click(screen.getByRole('button', { name: 'Doses: one less' }));
    expect(input.value).toBe('49');
    expect(message()).toBe('');
    await type(input, '70');
    await fireEvent.blur(input);
    expect(message()).toMatch(/^At most 50/);
    await type(input, '30');
    await fireEvent.blur(input);
    expect(input.value).toBe('30');
    expect(message()).toBe('');
  });

  it('a number in range is taken at once, silently', async () => {
    const { input, message, changes } = stepper({ value: 2, max: 50 });
    await type(input, '45');
    expect(message()).toBe('');
    expect(changes).toEqual([45]);
    await fireEvent.blur(input);
    expect(changes).toEqual([45]);
    expect(message()).toBe('');
  });

  it('uses the ceiling a screen raised (stock counts)', async () => {
    const { input, message } = stepper({ value: 0, max: 100_000, ceiling: 100_000 });
    await type(input, '250000');
    expect(input.value).toBe('100000');
    expect(message()).toBe('At most 100,000: 250,000 was changed to 100,000.');
  });

  it('speaks Russian and Ukrainian', async () => {
    setLanguage('ru');
    const ru = stepper({ value: 2, max: 50 });
    await type(ru.input, '60');
    expect(ru.message()).toBe('Не больше 50: 60 заменено на 50.');
    document.body.innerHTML = '';
    setLanguage('uk');
    const uk = stepper({ value: 2, max: 50 });
    await type(uk.input, '60');
    expect(uk.message()).toBe('Не більше 50: 60 замінено на 50.');
  });
});
