import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { insideTauri, tauriBackend, type Backend } from './lib/backend';

/**
 * Inside the Tauri window the UI talks to Rust. In a plain browser during development
 * (`npm run dev`), an in-memory fake stands in so every screen can be tried; it is not part of
 * production builds.
 */
async function chooseBackend(): Promise<Backend> {
  if (insideTauri() || !import.meta.env.DEV) return tauriBackend;
  const { FakeBackend } = await import('./lib/fakeBackend');
  return new FakeBackend({ demo: true, syncStepMs: 250 });
}

const target = document.getElementById('app');
if (!target) throw new Error('no #app element');
void chooseBackend().then((backend) => mount(App, { target, props: { backend } }));
