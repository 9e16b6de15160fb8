/**
 * The state shared by every screen: the backend's status, the catalogue, the current screen, a
 * short notice after a save, sync progress, and the group tally in progress. Nothing here is
 * written to disk; the backend owns all data.
 */
import type { Snippet } from 'svelte';
import type {
  Backend,
  BackendError,
  Commodity,
  ItemQuantity,
  KitTemplate,
  Language,
  Setting,
  Status,
  SyncProgress,
  UicQuestion,
} from './backend';
import { toBackendError } from './backend';
import { labelOr, language, setLanguage, t } from '../i18n/index.svelte';
import { emptyTally, type TallyCounts } from './logic/tally';
import { schemeQuestions } from './logic/uic';

export const SCREENS = [
  'home',
  'quicklog',
  'contact',
  'referrals',
  'tally',
  'survey',
  'stock',
  'history',
  'sync',
  'settings',
] as const;
export type Screen = (typeof SCREENS)[number];

export interface Notice {
  key: string;
  params?: Record<string, string | number>;
  tone: 'ok' | 'error';
}

export interface TallyDraftState {
  setting: Setting;
  eventName: string;
  counts: TallyCounts;
  items: ItemQuantity[];
}

/** How long a notice may be old and still follow the worker to the screen its action opened. */
const NOTICE_CARRIES_MS = 1000;

export class Session {
  readonly backend: Backend;
  status = $state<Status | null>(null);
  statusError = $state<BackendError | null>(null);
  screen = $state<Screen>('home');
  commodities = $state<Commodity[]>([]);
  kits = $state<KitTemplate[]>([]);
  progress = $state<SyncProgress | null>(null);
  notice = $state<Notice | null>(null);
  /** Set when an unlock attempt wiped the device; shown on the enrolment screen. */
  wiped = $state(false);
  /** Setting handed to the new-contact screen (e.g. from the window quick-log). */
  contactSetting = $state<Setting | null>(null);
  quickLogSetting = $state<Setting>('window');
  /**
   * A festival tally can run for hours: it is kept in memory across screens and an idle lock
   * (it holds anonymous counts only), until it is saved.
   */
  tally = $state<TallyDraftState>({ setting: 'nightlife', eventName: '', counts: emptyTally(), items: [] });
  /** A language chosen for a client (survey) that status refreshes must not undo. */
  languageOverride = $state<Language | null>(null);
  /**
   * Kiosk mode: a client fills in a survey alone and the tablet shows nothing else; leaving it
   * locks the app, so only the worker's PIN gets back to the other screens.
   */
  kiosk = $state(false);
  /**
   * The open screen's action bar, shown by the app below the scrolling page (see
   * `ScreenActions`); `footerHosted` is set by the app, which has that footer.
   */
  footer = $state.raw<{ children: Snippet; spread: boolean } | null>(null);
  footerHosted = false;
  /** The form kiosk mode shows (its id). */
  kioskForm = $state<string | null>(null);

  private noticeTimer: ReturnType<typeof setTimeout> | null = null;
  private noticeAt = 0;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  get unlocked(): boolean {
    return !!this.status && this.status.enrolled && this.status.pin_set && !this.status.locked;
  }

  async refresh(): Promise<Status | null> {
    try {
      const status = await this.backend.status();
      this.status = status;
      this.statusError = null;
      if (!this.languageOverride) setLanguage(status.language);
      return status;
    } catch (error) {
      this.statusError = toBackendError(error);
      return null;
    }
  }

  /** Whether the catalogue was read since unlocking (it may legitimately be empty before a sync). */
  catalogueLoaded = $state(false);

  async loadCatalogue(): Promise<void> {
    this.catalogueLoaded = true;
    const [commodities, kits] = await Promise.all([this.backend.commodities(), this.backend.kitTemplates()]);
    this.commodities = commodities;
    this.kits = kits;
  }

  /**
   * Opens a screen. A notice from an earlier action goes (it would be stale on another screen);
   * one raised by the action that opens the screen (within a second) stays.
   */
  go(screen: Screen): void {
    if (this.notice && Date.now() - this.noticeAt > NOTICE_CARRIES_MS) this.dismissNotice();
    this.screen = screen;
  }

  dismissNotice(): void {
    this.notice = null;
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.noticeTimer = null;
  }

  notify(key: string, params?: Record<string, string | number>, tone: Notice['tone'] = 'ok'): void {
    this.notice = { key, params, tone };
    this.noticeAt = Date.now();
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      this.notice = null;
      this.noticeTimer = null;
    }, 4000);
  }

  async lock(): Promise<void> {
    try {
      await this.backend.lock();
    } finally {
      this.screen = 'home';
      this.languageOverride = null;
      this.kiosk = false;
      await this.refresh();
    }
  }

  /**
   * The questions of the organisation's client code scheme (the default scheme's until the
   * status lists them).
   */
  get uicQuestions(): readonly UicQuestion[] {
    return schemeQuestions(this.status);
  }

  /**
   * Switches the screens to `language` at once and saves it on the tablet; resolves to the
   * error of a failed save (the screens keep the language either way), or null.
   */
  async chooseLanguage(language: Language): Promise<BackendError | null> {
    setLanguage(language);
    try {
      await this.backend.setLanguage({ language });
      return null;
    } catch (e) {
      return toBackendError(e);
    }
  }

  /** Catalogue order, for sorting kit rows. */
  commodityOrder(): string[] {
    return this.commodities.map((c) => c.code);
  }

  /**
   * A commodity's name in the worker's language: the organisation's own translation, else the
   * app's for a default code, else the catalogue's name (retired ones too: history names them).
   */
  commodityName(code: string): string {
    const item = this.commodities.find((c) => c.code === code);
    const own = item?.names?.[language()];
    if (own) return own;
    return labelOr(`commodity.${code}`, item?.name ?? code);
  }

  /** What a worker may pick for a new entry: the catalogue without retired items, in its order. */
  get offeredCommodities(): Commodity[] {
    return this.commodities.filter((c) => !c.retired);
  }

  /** The kits a worker may use for a new entry, in the catalogue's order. */
  get offeredKits(): KitTemplate[] {
    return this.kits.filter((k) => !k.retired);
  }

  /** "Syringe 1 ml × 10, Condom × 2" for the items with a quantity, or "Nothing given". */
  itemsText(record: Record<string, number>): string {
    const lines = Object.entries(record).filter(([, q]) => q > 0);
    if (lines.length === 0) return t('items.nothing');
    return lines.map(([c, q]) => t('items.line', { name: this.commodityName(c), count: q })).join(', ');
  }

  kitName(kit: KitTemplate): string {
    const own = kit.names?.[language()];
    if (own) return own;
    return labelOr(`kit.${kit.code}`, kit.name);
  }

  resetTally(keepEvent: boolean): void {
    const { setting, eventName } = this.tally;
    this.tally = { setting, eventName: keepEvent ? eventName : '', counts: emptyTally(), items: [] };
  }
}
