/**
 * Finds user-visible text written directly in Svelte markup instead of coming from `t(...)`:
 * text nodes with letters, and letters in quoted values of visible attributes (placeholder,
 * title, alt, aria-label, label props, ...). Expressions in braces are skipped whatever they
 * contain; text without letters (digits, "+", "−", "×", "‹") is allowed.
 */

export interface Finding {
  kind: 'text' | 'attribute';
  snippet: string;
}

const VISIBLE_ATTRIBUTE = /^(placeholder|title|alt|aria-label|aria-description|aria-placeholder|aria-valuetext|aria-roledescription|value|[a-zA-Z]*[lL]abel|text|message|heading|hint)$/;
const LETTER = /\p{L}/u;

/** Removes `{...}` expressions (nested braces, strings and template literals handled). */
export function stripExpressions(markup: string): string {
  let out = '';
  let i = 0;
  while (i < markup.length) {
    const c = markup[i];
    if (c !== '{') {
      out += c;
      i += 1;
      continue;
    }
    let depth = 0;
    let quote: string | null = null;
    for (; i < markup.length; i++) {
      const ch = markup[i];
      if (quote) {
        if (ch === '\\') i += 1;
        else if (ch === quote) quote = null;
        continue;
      }
      if (ch === '"' || ch === "'" || ch === '`') quote = ch;
      else if (ch === '{') depth += 1;
      else if (ch === '}') {
        depth -= 1;
        if (depth === 0) {
          i += 1;
          break;
        }
      }
    }
    out += '\u0000'; // an expression stood here
  }
  return out;
}

export function findHardCodedText(source: string): Finding[] {
  const markup = source
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<!--[\s\S]*?-->/g, '');
  const plain = stripExpressions(markup);
  const findings: Finding[] = [];
  const tag = /<\/?[a-zA-Z][^>]*>/g;
  for (const m of plain.matchAll(tag)) {
    for (const a of m[0].matchAll(/([a-zA-Z:_-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
      const value = (a[3] ?? a[4] ?? '').replace(/\u0000/g, '');
      if (VISIBLE_ATTRIBUTE.test(a[1]) && LETTER.test(value)) findings.push({ kind: 'attribute', snippet: a[0] });
    }
  }
  for (const text of plain.replace(tag, '\n').split('\n')) {
    const visible = text.replace(/\u0000/g, ' ').trim();
    if (visible && LETTER.test(visible)) findings.push({ kind: 'text', snippet: visible });
  }
  return findings;
}
