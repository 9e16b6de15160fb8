/**
 * The app's page layout: the screen scrolls in its own region between the status bar and the
 * screen's action bar (`ScreenActions`, shown by the app below the page), so a bar never covers
 * what the worker must tap or read. The page region, not the window, is what scrolls.
 */

/** The id of the scrolling page region. */
export const PAGE_ID = 'page';

/** Scrolls the page region (or the window, outside the app shell) to `top`. */
export function scrollPageTo(top = 0): void {
  const page = document.getElementById(PAGE_ID);
  if (page && typeof page.scrollTo === 'function') page.scrollTo({ top });
  else if (typeof window.scrollTo === 'function') window.scrollTo({ top });
}
