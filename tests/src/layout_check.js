// Layout checks run in the app window (see `Session::layout_problems`): what a worker would
// find wrong on the screen as shown, at the window's current size. Returns a list of problems.
//  - an interactive element (button, field, chip, link) under a fixed or sticky bar or a toast;
//  - a touch target smaller than 48 × 48 CSS pixels (checkboxes and radios: their label);
//  - a page wider than the window (sideways scrolling).
const done = arguments[arguments.length - 1];
const MIN_TARGET = 48;
const INTERACTIVE =
  'button, input:not([type=hidden]), select, textarea, a[href], summary, [role=button], [role=radio], [role=checkbox], [role=tab]';
const clip = (a, b) => ({ l: Math.max(a.l, b.l), t: Math.max(a.t, b.t), r: Math.min(a.r, b.r), b: Math.min(a.b, b.b) });
const area = (b) => Math.max(0, b.r - b.l) * Math.max(0, b.b - b.t);
const rect = (el) => {
  const r = el.getBoundingClientRect();
  return { l: r.left, t: r.top, r: r.right, b: r.bottom };
};
// The part of an element the worker can see: inside the window and every scrolling ancestor.
const visible = (el) => {
  let box = clip(rect(el), { l: 0, t: 0, r: innerWidth, b: innerHeight });
  for (let p = el.parentElement; p; p = p.parentElement) {
    const cs = getComputedStyle(p);
    if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') box = clip(box, rect(p));
  }
  return box;
};
const name = (el) =>
  (el.getAttribute('aria-label') || el.textContent || el.getAttribute('placeholder') || el.tagName)
    .trim()
    .replace(/\s+/g, ' ')
    .slice(0, 50);
const shown = (el) => {
  const cs = getComputedStyle(el);
  return cs.visibility !== 'hidden' && cs.display !== 'none' && !el.closest('[hidden], [inert]') && area(visible(el)) >= 1;
};
const bars = [...document.querySelectorAll('body *')].filter((el) => {
  const position = getComputedStyle(el).position;
  return (position === 'fixed' || position === 'sticky') && shown(el);
});
const problems = [];
for (const el of document.querySelectorAll(INTERACTIVE)) {
  if (!shown(el)) continue;
  const box = visible(el);
  for (const bar of bars) {
    if (bar.contains(el) || el.contains(bar)) continue;
    if (area(clip(box, visible(bar))) > 1) {
      problems.push(`"${name(el)}" is under a ${getComputedStyle(bar).position} ${bar.tagName.toLowerCase()}.${bar.className}`);
    }
  }
  const target = el.matches('input[type=checkbox], input[type=radio]') ? (el.closest('label') ?? el) : el;
  const r = target.getBoundingClientRect();
  if (r.width < MIN_TARGET - 0.5 || r.height < MIN_TARGET - 0.5) {
    problems.push(`"${name(target)}" is ${Math.round(r.width)} × ${Math.round(r.height)} px, under ${MIN_TARGET} × ${MIN_TARGET}`);
  }
}
for (const el of [document.documentElement, ...document.querySelectorAll('#page')]) {
  if (el.scrollWidth > el.clientWidth + 1) {
    // Name the innermost elements that stick out past the right edge, so the fix is findable.
    const edge = el.getBoundingClientRect().left + el.clientWidth + 1;
    const out = [...el.querySelectorAll('*')].filter(
      (e) => e.getBoundingClientRect().right > edge && ![...e.children].some((c) => c.getBoundingClientRect().right > edge),
    );
    const names = out.slice(0, 4).map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} "${name(e)}"`);
    problems.push(`${el.id || el.tagName} scrolls sideways: ${el.scrollWidth} px in ${el.clientWidth} (${names.join('; ')})`);
  }
}
done([...new Set(problems)]);
