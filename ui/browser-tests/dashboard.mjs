// Drives the coordinators' dashboard in a real headless Chromium (Debian's /usr/bin/chromium,
// through playwright-core) against a running outpost-server with fixture data.
//
// Run by the Rust integration test, which starts the server and sets:
//   OUTPOST_DASHBOARD_URL       e.g. http://127.0.0.1:41234/dashboard/
//   OUTPOST_DASHBOARD_USER      a coordinator's username
//   OUTPOST_DASHBOARD_PASSWORD  their password
//   OUTPOST_DASHBOARD_EXPECT    {"from","to","indicators":{key: text},"export_kind","export_rows","conflicts","duplicate_code",
//                               "donor_sites":[name],"donor_reports":[DonorReport]} (see checkDonorReports)
//   OUTPOST_DASHBOARD_FORM      an XLSForm workbook to preview and publish (the shipped default form)
//   OUTPOST_DASHBOARD_BAD_FORM  an XLSForm workbook with an error, to see it refused
//   OUTPOST_DASHBOARD_ADMIN     an admin's username (same password): sets up a site, a commodity,
//                               a kit and an enrolment code, then disconnects a tablet on a phone
//   OUTPOST_DASHBOARD_QR_OUT    a file to write the enrolment card's QR code (SVG) to, for the
//                               Rust test to decode
//   OUTPOST_SCREENSHOTS         (optional) a directory for page screenshots
//   OUTPOST_CHROMIUM            (optional) the browser, default /usr/bin/chromium
//
// Exit code 0 when every check passed; otherwise it prints what differed, saves failure.png
// (in OUTPOST_SCREENSHOTS or the temp directory) and exits 1. Every wait has a timeout, so a
// broken page fails in seconds instead of hanging.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const WAIT_MS = 15_000;
/** The whole run; a safety net on top of the per-step timeouts. */
const RUN_MS = 180_000;

/** @param {string} name */
function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

const url = env('OUTPOST_DASHBOARD_URL');
const user = env('OUTPOST_DASHBOARD_USER');
const password = env('OUTPOST_DASHBOARD_PASSWORD');
/**
 * An indicator set's printable report, as the server hand-counts it for the fixture's period
 * (suppression off). `indicators` in the order they are printed: the line starting with the
 * indicator's `heading` (its code, or its whole name) ends its first part with `value` after a gap;
 * (a name that fits on one line); `rows` are rows of its tables in print order (one-way tables
 * stand side by side), each a category followed by every cell of its row (a one-way table: one
 * cell; a two-way table: a cell per column); `texts` appear in its part of the page. A part runs
 * from its heading to the next indicator's checked here.
 * @typedef {{heading: string, value: string, rows?: string[][], texts?: string[]}} PrintedIndicator
 * @typedef {{set: string, name: string, period: string, indicators: PrintedIndicator[]}} DonorReport
 */
/** @type {{from: string, to: string, indicators: Record<string, string>, export_kind: string, export_rows: number, conflicts: number, duplicate_code: string, donor_sites: string[], donor_reports: DonorReport[]}} */
const expect = JSON.parse(env('OUTPOST_DASHBOARD_EXPECT'));
const admin = env('OUTPOST_DASHBOARD_ADMIN');
const qrOut = env('OUTPOST_DASHBOARD_QR_OUT');
const shots = process.env.OUTPOST_SCREENSHOTS || null;
if (shots) mkdirSync(shots, { recursive: true });

/** @type {string[]} */
const problems = [];
/** @type {string[]} */
const pageErrors = [];

/** @param {string} message */
function log(message) {
  console.log(`[dashboard] ${message}`);
}

/** @type {import('playwright-core').Page | null} */
let currentPage = null;
/** The screenshot of the page as it was at the first difference. */
let failureShot = /** @type {Promise<unknown> | null} */ (null);

function failurePath() {
  return join(shots ?? tmpdir(), 'failure.png');
}

/** Records a difference and carries on (so one run reports every difference it can). */
function differ(/** @type {string} */ what, /** @type {unknown} */ expected, /** @type {unknown} */ actual) {
  problems.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  if (!failureShot && currentPage) failureShot = currentPage.screenshot({ path: failurePath(), fullPage: true }).catch(() => {});
}

/** @param {import('playwright-core').Page} page @param {string} name */
async function screenshot(page, name) {
  if (!shots) return;
  // From the top: a full-page picture of a scrolled page draws the sticky bar in its middle.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(150); // let the charts finish their first paint
  await page.screenshot({ path: join(shots, name), fullPage: true });
  log(`saved ${name}`);
}

/**
 * Counts the records of a CSV text (RFC 4180: quoted fields may hold commas, quotes and line
 * breaks). Returns the rows as arrays of fields; a trailing line break ends the last row.
 * @param {string} text
 */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  const body = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** @param {import('playwright-core').Page} page @param {string} name */
async function openPage(page, name) {
  await page.getByTestId(`nav-${name}`).click();
  await page.getByTestId(`page-${name}`).waitFor();
  await page.waitForSelector(`[data-testid="page-${name}"]:not([data-loading="true"])`, { state: 'attached' });
  const error = page.locator(`[data-testid="page-${name}"] [data-testid="page-error"]`);
  if ((await error.count()) > 0) differ(`${name} page error`, null, await error.first().innerText());
}

/** @param {string} text */
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Checks a printed report's text (`pdftotext -layout`) against the hand-counted numbers.
 * @param {DonorReport} report @param {string} text @param {string | null} programme
 */
function checkPrintedReport(report, text, programme) {
  const what = `${report.set} PDF`;
  const flat = text.replace(/\s+/g, ' ');
  for (const [label, wanted] of [
    ['programme', programme],
    ['set name', report.name],
    ['period', report.period],
    ...expect.donor_sites.map((site) => ['site', site]),
  ]) {
    if (wanted && !flat.includes(wanted)) differ(`${what}: ${label}`, wanted, flat.slice(0, 400));
  }
  if (!/Exact figures: small numbers are not hidden \(suppression off\)/.test(flat)) differ(`${what}: the note on exact figures`, 'Exact figures: ...', flat.slice(-600));
  if (flat.includes('<5')) differ(`${what}: hidden numbers with suppression off`, 'none', '<5');

  const lines = text.split('\n');
  /** @type {number[]} The line of each indicator's heading with its value, in print order (-1: not found). */
  const headings = [];
  let cursor = 0;
  for (const indicator of report.indicators) {
    const line = new RegExp(`^\\s*${escapeRegExp(indicator.heading)}(\\s.*)?\\s{2,}${escapeRegExp(indicator.value)}(\\s|$)`);
    const at = lines.findIndex((l, i) => i >= cursor && line.test(l));
    if (at < 0) {
      const seen = lines.find((l, i) => i >= cursor && l.trim().startsWith(indicator.heading));
      differ(`${what}: ${indicator.heading}`, indicator.value, seen?.trim() ?? '(no such heading)');
    } else {
      log(`${report.set}: ${lines[at].trim().replace(/\s{2,}/g, ' … ')}`);
      cursor = at + 1;
    }
    headings.push(at);
  }
  report.indicators.forEach((indicator, k) => {
    const start = headings[k];
    if (start < 0) return;
    const end = headings.slice(k + 1).find((at) => at >= 0) ?? lines.length;
    const part = lines.slice(start, end);
    // Where the last row checked was found: the next is after it, on its line or below.
    let row = 1;
    let column = 0;
    for (const [category, ...cells] of indicator.rows ?? []) {
      // The category as a table cell: followed on its line by a number, then the line's cells.
      const anchor = new RegExp(`(^|\\s)${escapeRegExp(category)}\\s+<?\\d`, 'g');
      const cellsAfter = new RegExp(`^\\s?${escapeRegExp(category)}\\s+((?:\\S+\\s+){${cells.length - 1}}\\S+)`);
      let at = -1;
      let index = 0;
      for (let i = row; i < part.length && at < 0; i++) {
        anchor.lastIndex = i === row ? column : 0;
        const found = anchor.exec(part[i]);
        if (found) {
          at = i;
          index = found.index;
        }
      }
      const shown = at < 0 ? null : (part[at].slice(index).match(cellsAfter)?.[1].split(/\s+/) ?? null);
      if (!shown || shown.join(' ') !== cells.join(' ')) differ(`${what}: ${indicator.heading}, ${category}`, cells, shown ?? '(no such line)');
      if (at >= 0) {
        row = at;
        column = index + 1 + category.length;
      }
    }
    const partText = part.join('\n').replace(/\s+/g, ' ');
    for (const wanted of indicator.texts ?? []) {
      if (!partText.includes(wanted)) differ(`${what}: ${indicator.heading}`, wanted, partText.slice(0, 300));
    }
  });
}

/**
 * The donor reports, printed: the first from the page's Print button (the print dialog replaced,
 * headless Chromium has none), the others by their address; each waited for, printed to an A4
 * PDF and its text read with `pdftotext -layout`. Suppression is off (exact figures, audited).
 * Ends back on the indicators with the fixture's period, as before.
 * @param {import('playwright-core').Page} page
 */
async function checkDonorReports(page) {
  // The programme's name as the server holds it (coordinators may read the organisation).
  const answer = await page.request.get(new URL('/api/v1/dashboard/admin/organisation', url).href);
  const programme = answer.ok() ? /** @type {{name: string}} */ (await answer.json()).name : null;
  if (!programme) differ('the organisation', 'its name', answer.status());
  for (const [i, report] of expect.donor_reports.entries()) {
    const query = `set=${report.set}&from=${expect.from}&to=${expect.to}&suppress=false`;
    if (i === 0) {
      await page.goto(`${url}#/donor-reports?${query}`);
      await page.waitForSelector(`[data-testid="donor-report"][data-set="${report.set}"]`, { state: 'attached' });
      await page.evaluate(() => {
        const w = /** @type {Window & {printed?: number}} */ (window);
        w.printed = 0;
        w.print = () => {
          w.printed = (w.printed ?? 0) + 1;
        };
      });
      await page.getByTestId('report-print').click();
    } else {
      await page.goto(`${url}#/donor-reports/print?${query}`);
    }
    const ready = `[data-testid="print-report"][data-set="${report.set}"][data-from="${expect.from}"][data-to="${expect.to}"][data-ready="true"]`;
    await page.waitForSelector(ready, { state: 'attached' });
    const error = page.locator('[data-testid="page-donor-print"] [data-testid="page-error"]');
    if ((await error.count()) > 0) differ(`${report.set} printable report`, 'no error', await error.first().innerText());
    if ((await page.getByTestId('nav-indicators').count()) > 0) differ(`${report.set} printable report`, 'the report alone', 'the navigation too');
    if (!page.url().includes(`#/donor-reports/print?${query}`)) differ(`${report.set} printable report's address`, `#/donor-reports/print?${query}`, page.url());
    if (i === 0) {
      await page
        .waitForFunction(() => /** @type {Window & {printed?: number}} */ (window).printed === 1, null, { timeout: WAIT_MS })
        .catch(() => differ('the print dialog after "Print"', 'opened once', 'not opened'));
    }
    const pdf = join(tmpdir(), `outpost-donor-report-${report.set}-${process.pid}.pdf`);
    await page.pdf({ path: pdf, format: 'A4', printBackground: true, preferCSSPageSize: true });
    try {
      const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
      const size = info.match(/^Page size:\s*(.*)$/m)?.[1] ?? '';
      if (!/\(A4\)/.test(size)) differ(`${report.set} PDF page size`, 'A4', size);
      const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
      checkPrintedReport(report, text, programme);
      log(`donor report ${report.set}: ${info.match(/^Pages:\s*(\d+)/m)?.[1]} A4 page(s) checked`);
      if (shots) {
        execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', '-singlefile', pdf, join(shots, `dashboard-donor-report-${report.set}`)]);
        log(`saved dashboard-donor-report-${report.set}.png`);
      }
    } finally {
      rmSync(pdf, { force: true });
    }
  }
  // Back to the page, then to the indicators as they were (small numbers hidden again).
  await page.getByTestId('print-back').click();
  await page.getByTestId('page-donor-reports').waitFor();
  await page.goto(`${url}#/indicators?from=${expect.from}&to=${expect.to}`);
  await page.waitForSelector('[data-testid="page-indicators"][data-loading="false"]', { state: 'attached' });
}

/**
 * An admin sets up the programme in the browser: a site with its estimate, a client erased on
 * request, a commodity with its
 * Russian name, a kit, an enrolment code on its printable card (the QR code is handed to the
 * Rust test); then, on a phone-sized window, disconnects a tablet.
 * @param {import('playwright-core').Page} page @param {import('playwright-core').BrowserContext} context
 */
async function setUpAsAdmin(page, context) {
  await page.getByTestId('login-username').fill(admin);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  // The address still names the page the coordinator left (conflicts): the frame is enough.
  await page.getByTestId('nav-sites').waitFor();
  log(`signed in as ${admin}`);

  await openPage(page, 'sites');
  await page.getByTestId('site-add').click();
  await page.getByTestId('site-name').fill('Night bus');
  await page.getByTestId('site-pwid').fill('300');
  await page.getByTestId('site-save').click();
  await page.getByTestId('site-saved').waitFor();
  // The list is read again after the save: wait for the new row rather than read the old list
  // (a slow machine showed the list before it came back).
  await page.getByTestId('site-row').filter({ hasText: 'Night bus' }).waitFor();
  const sites = await page.getByTestId('site-row').allInnerTexts();
  if (!sites.some((/** @type {string} */ t) => t.includes('Night bus') && t.includes('300'))) differ('sites after adding one', 'Night bus 300', sites);
  else log('site added: Night bus');

  // A client asks to be forgotten: the code and the reason, then the confirmation naming it.
  const erase = env('OUTPOST_DASHBOARD_ERASE_CODE');
  await page.getByTestId('erase-code').fill(erase.toLowerCase());
  await page.getByTestId('erase-reason').fill('asked at the window');
  await page.getByTestId('erase-start').click();
  const question = await page.getByTestId('erase-confirm-box').innerText();
  if (!question.includes(erase)) differ('erasure confirmation', `names ${erase}`, question);
  await page.getByTestId('erase-confirm').click();
  const erased = await page.getByTestId('erase-done').innerText({ timeout: WAIT_MS });
  if (!/1 client record/.test(erased)) differ('erasure result', '1 client record(s) ...', erased);
  else log(`client erased: ${erased}`);
  await screenshot(page, 'dashboard-sites.png');

  await openPage(page, 'catalogue');
  await page.getByTestId('commodity-add').click();
  await page.getByTestId('commodity-code').fill('syringe_05ml');
  await page.getByTestId('commodity-name').fill('Syringe 0.5 ml');
  await page.getByTestId('commodity-name-ru').fill('Шприц 0,5 мл');
  await page.getByTestId('commodity-save').click();
  await page.getByTestId('catalogue-saved').waitFor();
  await page.locator('[data-testid="commodity-row"][data-code="syringe_05ml"]').waitFor();
  log('commodity added: syringe_05ml');
  await page.getByTestId('kit-add').click();
  await page.getByTestId('kit-code').fill('festival');
  await page.getByTestId('kit-name').fill('Festival kit');
  await page.getByTestId('kit-add-item').click();
  await page.getByTestId('kit-item').first().locator('select').selectOption('syringe_05ml');
  await page.getByTestId('kit-save').click();
  await page.getByTestId('catalogue-saved').waitFor();
  await page.locator('[data-testid="kit-row"][data-code="festival"]').waitFor();
  log('kit added: festival');
  await screenshot(page, 'dashboard-catalogue.png');

  await openPage(page, 'devices');
  await page.getByTestId('enrol-create').click();
  const card = page.getByTestId('enrol-card');
  await card.waitFor();
  const code = (await page.getByTestId('enrol-code').innerText()).trim();
  const svg = await page.getByTestId('enrol-qr').innerHTML();
  writeFileSync(qrOut, JSON.stringify({ code, svg }));
  if (!/^[A-Z0-9-]{8,}$/.test(code)) differ('enrolment code on the card', 'a code', code);
  else log(`enrolment card for code ${code}`);
  await screenshot(page, 'dashboard-enrolment.png');

  await openPage(page, 'users');
  await page.getByTestId('user-add').click();
  await page.getByTestId('user-name').fill('night-coordinator');
  await page.getByTestId('user-role').selectOption('coordinator');
  await page.getByTestId('user-site').first().check();
  await page.getByTestId('user-save').click();
  const temporary = (await page.getByTestId('user-password-value').innerText()).trim();
  if (!/^[A-Z0-9]{4}(-[A-Z0-9]{4}){4}$/.test(temporary)) differ('temporary password', 'XXXX-XXXX-XXXX-XXXX-XXXX', temporary);
  await page.locator('[data-testid="user-row"][data-user="night-coordinator"]').waitFor();
  log('staff account added with a temporary password');
  await screenshot(page, 'dashboard-users.png');

  // At night, on a phone: the lost tablet is disconnected.
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(url);
  await phone.getByTestId('nav-devices').click();
  await phone.getByTestId('page-devices').waitFor();
  const candidate = phone.getByTestId('device-row').filter({ has: phone.getByTestId('device-revoke') }).first();
  const id = await candidate.getAttribute('data-id');
  const row = phone.locator(`[data-testid="device-row"][data-id="${id}"]`);
  await row.getByTestId('device-rename').click();
  await row.getByTestId('device-name').fill('Lost tablet 7');
  await row.getByTestId('device-rename-save').click();
  await row.locator('.name', { hasText: 'Lost tablet 7' }).waitFor();
  await row.getByTestId('device-revoke').click();
  await row.getByTestId('device-revoke-confirm').click();
  await row.getByTestId('revoked').waitFor();
  log(`tablet ${id} renamed and disconnected from a phone`);
  if (shots) await phone.screenshot({ path: join(shots, 'dashboard-revoke-phone.png'), fullPage: false });
  await phone.close();
}

async function run() {
  const browser = await chromium.launch({
    executablePath: process.env.OUTPOST_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: WAIT_MS,
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-GB', acceptDownloads: true });
  const page = await context.newPage();
  currentPage = page;
  page.setDefaultTimeout(WAIT_MS);
  page.setDefaultNavigationTimeout(WAIT_MS);
  page.on('pageerror', (e) => pageErrors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console error: ${m.text()}`);
  });

  try {
    // Login page, a wrong password, then the right one -------------------------------------
    log(`opening ${url}`);
    await page.goto(url);
    await page.getByTestId('login-form').waitFor();
    await screenshot(page, 'dashboard-login.png');

    await page.getByTestId('login-username').fill(user);
    await page.getByTestId('login-password').fill(`${password}-wrong`);
    await page.getByTestId('login-submit').click();
    const loginError = page.getByTestId('login-error');
    await loginError.waitFor();
    const code = await loginError.getAttribute('data-code');
    if (code !== 'login_failed') differ('error code after a wrong password', 'login_failed', code);
    log(`wrong password refused: ${await loginError.innerText()}`);

    await page.getByTestId('login-password').fill(password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('page-indicators').waitFor();
    log('signed in');

    // Indicators for the fixture month ------------------------------------------------------
    await page.getByTestId('preset-custom').click();
    await page.getByTestId('filter-from').fill(expect.from);
    await page.getByTestId('filter-to').fill(expect.to);
    await page.getByTestId('filter-apply').click();
    await page.waitForSelector(`[data-testid="indicators-period"][data-from="${expect.from}"][data-to="${expect.to}"]`, {
      state: 'attached',
    });
    await page.waitForSelector('[data-testid="page-indicators"][data-loading="false"]', { state: 'attached' });
    const indicatorError = page.locator('[data-testid="page-indicators"] > [data-testid="page-error"]');
    if ((await indicatorError.count()) > 0) differ('indicators error', null, await indicatorError.first().innerText());
    // The page opens with the summary and the people reached; the other sections open on a
    // click, as a coordinator opens them (photographed first, as a coordinator first sees it).
    await screenshot(page, 'dashboard-indicators.png');
    const summaryPeople = (await page.getByTestId('summary-people_reached').getByTestId('summary-value').innerText()).trim();
    if (summaryPeople !== expect.indicators.people_reached) differ('summary people reached', expect.indicators.people_reached, summaryPeople);
    const closed = page.locator('details.ind-section:not([open]) > summary');
    for (let left = await closed.count(); left > 0; left = await closed.count()) await closed.first().click();
    for (const [key, text] of Object.entries(expect.indicators)) {
      const value = page.getByTestId(`indicator-${key}`).getByTestId('indicator-value');
      if ((await page.getByTestId(`indicator-${key}`).count()) === 0) {
        differ(`indicator ${key}`, text, '(no card)');
        continue;
      }
      const shown = (await value.innerText()).trim();
      if (shown !== text) differ(`indicator ${key}`, text, shown);
      else log(`indicator ${key} = ${shown}`);
    }

    // Language: Russian and back ------------------------------------------------------------
    const nav = page.getByTestId('nav-indicators');
    const english = (await nav.innerText()).trim();
    await page.getByTestId('language').selectOption('ru');
    await page.waitForFunction((before) => {
      const text = document.querySelector('[data-testid="nav-indicators"]')?.textContent?.trim();
      return !!text && text !== before && /[\u0400-\u04FF]/.test(text);
    }, english, { timeout: WAIT_MS });
    const russian = (await nav.innerText()).trim();
    const lang = await page.evaluate(() => document.documentElement.lang);
    if (lang !== 'ru') differ('<html lang> in Russian', 'ru', lang);
    log(`language: "${english}" → "${russian}"`);
    await page.getByTestId('language').selectOption('en');
    await page.waitForFunction((before) => document.querySelector('[data-testid="nav-indicators"]')?.textContent?.trim() === before, english, {
      timeout: WAIT_MS,
    });

    // Donor reports, printed to PDF: the hand-counted numbers on A4 paper -------------------------
    await checkDonorReports(page);

    // Other pages, for their screenshots and to see that they load ----------------------------
    await openPage(page, 'stock');
    await screenshot(page, 'dashboard-stock.png');
    await openPage(page, 'devices');
    await screenshot(page, 'dashboard-devices.png');
    await openPage(page, 'surveys');
    await screenshot(page, 'dashboard-surveys.png');

    // Forms: a broken workbook is refused row by row; a good one is previewed as a tablet shows
    // it (the server's check decides what shows) and published as the next version -----------
    await openPage(page, 'forms');
    await page.getByTestId('form-cbm_default-1').waitFor({ timeout: WAIT_MS });
    await page.getByTestId('form-file').setInputFiles(env('OUTPOST_DASHBOARD_BAD_FORM'));
    const errors = await page.getByTestId('form-errors').innerText({ timeout: WAIT_MS });
    if (!/colours/.test(errors) || !/survey/.test(errors)) differ('refused form', 'the missing list, with its sheet and row', errors);
    else log('broken form refused with its rows');
    await page.getByTestId('form-file').setInputFiles(env('OUTPOST_DASHBOARD_FORM'));
    const preview = page.getByTestId('form-preview');
    await preview.getByText('How did staff treat you today?').waitFor({ timeout: WAIT_MS });
    // The server's check decides what shows and answers a moment after the questions are drawn:
    // wait for it rather than read the page before it came back.
    await preview
      .getByText('What was missing?')
      .waitFor({ state: 'detached', timeout: WAIT_MS })
      .catch(() => differ('preview before an answer', 'no follow-up', 'the follow-up shows'));
    await preview.getByRole('radio', { name: 'Partly' }).click();
    await preview.getByText('What was missing?').waitFor({ timeout: WAIT_MS });
    log('preview: the follow-up shows after "Partly"');
    await screenshot(page, 'dashboard-forms.png');
    await page.getByTestId('form-publish').click();
    const published = await page.getByTestId('form-published').innerText({ timeout: WAIT_MS });
    if (!published.includes('version 2')) differ('published', 'version 2', published);
    await page.getByTestId('form-cbm_default-2').waitFor({ timeout: WAIT_MS });
    log(`published: ${published}`);

    // Export ---------------------------------------------------------------------------------
    await openPage(page, 'exports');
    await page.getByTestId(`export-kind-${expect.export_kind}`).check();
    await page.getByTestId('export-format-csv').click();
    const href = await page.getByTestId('export-download').getAttribute('href');
    for (const part of [`/export/${expect.export_kind}?`, 'format=csv', `from=${expect.from}`, `to=${expect.to}`]) {
      if (!href?.includes(part)) differ('export link', part, href);
    }
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT_MS }), page.getByTestId('export-download').click()]);
    const failure = await download.failure();
    if (failure) differ('export download', 'a file', failure);
    else {
      const path = join(tmpdir(), `outpost-dashboard-export-${process.pid}.csv`);
      await download.saveAs(path);
      const rows = parseCsv(readFileSync(path, 'utf8'));
      rmSync(path, { force: true });
      const header = rows[0] ?? [];
      if (header.length === 0 || header.every((h) => h.trim() === '')) differ('CSV header row', 'column names', header);
      if (rows.length - 1 !== expect.export_rows) differ(`${expect.export_kind} CSV data rows`, expect.export_rows, rows.length - 1);
      else log(`export ${download.suggestedFilename()}: header + ${rows.length - 1} rows`);
    }

    // Conflicts --------------------------------------------------------------------------------
    await openPage(page, 'conflicts');
    const open = page.locator('[data-testid="conflict-row"][data-status="open"]');
    const before = await open.count();
    if (before !== expect.conflicts) differ('open conflicts', expect.conflicts, before);
    await screenshot(page, 'dashboard-conflicts.png');
    if (before > 0) {
      const first = open.first();
      const id = await first.getAttribute('data-id');
      await first.getByTestId('conflict-revert').click();
      await first.getByTestId('confirm-resolve').click();
      const row = page.locator(`[data-testid="conflict-row"][data-id="${id}"]`);
      await page.waitForFunction(
        (conflictId) => {
          const el = document.querySelector(`[data-testid="conflict-row"][data-id="${conflictId}"]`);
          return !el || el.getAttribute('data-status') === 'resolved';
        },
        id,
        { timeout: WAIT_MS },
      );
      const after = await open.count();
      if (after !== before - 1) differ('open conflicts after "Restore other value"', before - 1, after);
      if ((await row.count()) > 0) {
        const resolution = (await row.getByTestId('conflict-resolution').innerText()).trim();
        log(`conflict ${id} resolved: ${resolution}`);
      }
      const rowError = row.getByTestId('page-error');
      if ((await rowError.count()) > 0) differ('resolving a conflict', 'no error', await rowError.innerText());
    }

    // Duplicates: the same code registered at two sites; merged, undone, merged again --------------
    await openPage(page, 'duplicates');
    const pair = page.getByTestId('duplicate-pair').filter({ hasText: expect.duplicate_code });
    if ((await pair.count()) !== 1) differ(`pairs with ${expect.duplicate_code}`, 1, await pair.count());
    await screenshot(page, 'dashboard-duplicates.png');
    const reason = await pair.first().getAttribute('data-reason');
    if (reason !== 'same_code') differ('the pair\'s reason', 'same_code', reason);
    const merged = page.getByTestId('merge-row').filter({ hasText: expect.duplicate_code });
    const mergeOnce = async () => {
      await pair.first().getByTestId('pair-merge').click();
      await pair.first().getByTestId('pair-confirm-merge').click();
      await page.getByTestId('duplicates-done').waitFor({ timeout: WAIT_MS });
      await merged.first().waitFor({ timeout: WAIT_MS });
    };
    await mergeOnce();
    if ((await pair.count()) !== 0) differ('the pair after merging', 0, await pair.count());
    log(`merged the two records of ${expect.duplicate_code}`);
    await merged.first().getByTestId('merge-undo').click();
    await merged.first().getByTestId('merge-confirm-undo').click();
    await pair.first().waitFor({ timeout: WAIT_MS });
    log('undone: the pair is offered again');
    await mergeOnce();

    // Log out; the session is gone after a reload too -------------------------------------------
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    await page.reload();
    await page.getByTestId('login-form').waitFor();
    log('signed out');

    await setUpAsAdmin(page, context);

    const serious = pageErrors.filter((e) => !/status of 401/.test(e));
    if (serious.length > 0) differ('errors in the browser console', [], serious);
  } catch (e) {
    problems.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  }

  if (problems.length > 0) {
    const path = failurePath();
    if (failureShot) await failureShot;
    else await page.screenshot({ path, fullPage: true }).catch(() => {});
    console.error(`[dashboard] FAILED (${problems.length}):`);
    for (const p of problems) console.error(`  - ${p}`);
    for (const e of pageErrors) console.error(`  (browser) ${e}`);
    console.error(`[dashboard] screenshot: ${path}; page: ${page.url()}`);
  }
  await browser.close().catch(() => {});
  return problems.length === 0;
}

const watchdog = setTimeout(() => {
  console.error(`[dashboard] FAILED: the run took longer than ${RUN_MS / 1000} s`);
  process.exit(1);
}, RUN_MS);

run()
  .then((ok) => {
    clearTimeout(watchdog);
    if (ok) log('all checks passed');
    process.exit(ok ? 0 : 1);
  })
  .catch((e) => {
    console.error(`[dashboard] FAILED: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
    process.exit(1);
  });
