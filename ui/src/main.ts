import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { insideTauri, tauriBackend, type Backend } from './lib/backend';
import { SCREENS, type Screen } from './lib/session.svelte';

/**
 * Inside the Tauri window the UI talks to Rust. In a plain browser during development
 * (`npm run dev`), an in-memory fake with demo data stands in so every screen can be tried;
 * it is left out of production builds. Preview options, e.g.
 * `http://localhost:1420/?state=unlocked&screen=quicklog&lang=uk`:
 * `state` = `new` (enrolment, the default) | `locked` (PIN 2580, set before the 6-digit rule) |
 * `unlocked`; `scheme` = `central_asia` (the default) | `surname_day_year` | `gender_letters_year`
 * for the client code questions.
 */
async function start(target: HTMLElement) {
  let backend: Backend = tauriBackend;
  let initialScreen: Screen = 'home';
  if (import.meta.env.DEV && !insideTauri()) {
    const { FakeBackend, UIC_SCHEMES } = await import('./lib/fakeBackend');
    const params = new URLSearchParams(location.search);
    const state = params.get('state');
    const lang = params.get('lang');
    const scheme = params.get('scheme');
    backend = new FakeBackend({
      demo: true,
      syncStepMs: 250,
      enrolled: state === 'locked' || state === 'unlocked',
      locked: state === 'locked',
      language: lang === 'ru' || lang === 'uk' ? lang : 'en',
      uicScheme: scheme && scheme in UIC_SCHEMES ? (scheme as keyof typeof UIC_SCHEMES) : 'central_asia',
    });
    const screen = params.get('screen');
    if (screen && (SCREENS as readonly string[]).includes(screen)) initialScreen = screen as Screen;
  }
  mount(App, { target, props: { backend, initialScreen } });
}

const target = document.getElementById('app');
if (!target) throw new Error('no #app element');
void start(target);
