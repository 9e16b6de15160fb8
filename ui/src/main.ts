import { mount } from 'svelte';
import './choices.css';
import './app.css';
import App from './App.svelte';
import { insideTauri, isLanguage, tauriBackend, type Backend } from './lib/backend';
import { SCREENS, type Screen } from './lib/session.svelte';

/**
 * Inside the Tauri window the UI talks to Rust. In a plain browser during development
 * (`npm run dev`), an in-memory fake with demo data stands in so every screen can be tried;
 * it is left out of production builds. Preview options, e.g.
 * `http://localhost:1420/?state=unlocked&screen=quicklog&lang=uk`:
 * `state` = `new` (enrolment, the default) | `locked` (PIN 2580, set before the 6-digit rule) |
 * `unlocked`. The fake answers as the real commands did when they were recorded
 * (`lib/generated/backend-fixtures.json`): the client code builder knows the recorded answers
 * (e.g. Maria / Ivan / woman / 1987 → MAIV287), a new PIN is the recorded one (258036), and a
 * call nothing recorded answers is refused with `not_recorded`.
 */
async function start(target: HTMLElement) {
  let backend: Backend = tauriBackend;
  let initialScreen: Screen = 'home';
  if (import.meta.env.DEV && !insideTauri()) {
    const { FakeBackend } = await import('./lib/fakeBackend');
    const params = new URLSearchParams(location.search);
    const state = params.get('state');
    const lang = params.get('lang');
    backend = new FakeBackend({
      demo: true,
      syncStepMs: 250,
      enrolled: state === 'locked' || state === 'unlocked',
      locked: state === 'locked',
      language: isLanguage(lang) ? lang : 'en',
    });
    const screen = params.get('screen');
    if (screen && (SCREENS as readonly string[]).includes(screen)) initialScreen = screen as Screen;
  }
  mount(App, { target, props: { backend, initialScreen } });
}

const target = document.getElementById('app');
if (!target) throw new Error('no #app element');
void start(target);
