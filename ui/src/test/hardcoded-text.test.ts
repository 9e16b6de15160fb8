import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findHardCodedText, stripExpressions } from './textScan';

const SRC = join(__dirname, '..');

function svelteFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return svelteFiles(path);
    return name.endsWith('.svelte') ? [path] : [];
  });
}

describe('the hard-coded text scanner', () => {
  it('finds text nodes and visible attributes written in markup', () => {
    const source = `
      <script lang="ts">const label = "Not markup";</script>
      <h1>Welcome back</h1>
      <input placeholder="Your name" class="big" />
      <Stepper label="Quantity" />
      <button aria-label='Close'>✕</button>
      <style>.x::before { content: 'Nope'; }</style>`;
    const found = findHardCodedText(source).map((f) => f.snippet);
    expect(found).toEqual(['placeholder="Your name"', 'label="Quantity"', "aria-label='Close'", 'Welcome back']);
  });

  it('accepts translated text, symbols and non-visible attributes', () => {
    const source = `
      <h1>{t('home.title')}</h1>
      <p>{t('a', { x: '}' })} · {count} × {t(\`setting.\${s}\`)}</p>
      <button class="btn primary" type="button" aria-label={t('pad.backspace')}>⌫</button>
      <span>+{format.number(10)} ‹ −</span>
      {#if ok}<b>{value}</b>{:else}<i>{other}</i>{/if}
      <!-- a comment with words -->`;
    expect(findHardCodedText(source)).toEqual([]);
  });

  it('skips braces inside strings and template literals', () => {
    expect(stripExpressions("a{f('}', `{`)}b")).toBe('a\u0000b');
  });
});

describe('components', () => {
  const files = svelteFiles(SRC);

  it('are found', () => {
    expect(files.length).toBeGreaterThan(15);
  });

  it.each(files.map((f) => [relative(SRC, f), f]))('%s has no hard-coded user-visible text', (_name, path) => {
    expect(findHardCodedText(readFileSync(path, 'utf8'))).toEqual([]);
  });
});
