import { existsSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The coordinators' dashboard (src/dashboard), served by outpost-server under /dashboard/ from
// `ui/dist-dashboard`. Everything is bundled (no CDN, no external font, no inline script), so it
// runs under the server's CSP: default-src 'self'; style-src 'self' 'unsafe-inline'; ...

const OUT_DIR = 'dist-dashboard';

/** The page is `dashboard.html` in the source tree (next to the tablet app's `index.html`) but `index.html` when served. */
function servedAsIndex(): Plugin {
  return {
    name: 'outpost-dashboard-index',
    closeBundle() {
      const built = resolve(import.meta.dirname, OUT_DIR, 'dashboard.html');
      if (existsSync(built)) renameSync(built, resolve(import.meta.dirname, OUT_DIR, 'index.html'));
    },
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        if (req.url === '/dashboard/' || req.url?.startsWith('/dashboard/?')) {
          req.url = req.url.replace('/dashboard/', '/dashboard/dashboard.html');
        }
        next();
      });
    },
  };
}

export default defineConfig({
  base: '/dashboard/',
  plugins: [svelte(), servedAsIndex()],
  clearScreen: false,
  server: {
    port: 1421,
    strictPort: true,
    // `npm run dev:dashboard` against a running server (scripts/run.sh): the API on the same origin.
    proxy: { '/api': process.env.OUTPOST_API ?? 'http://127.0.0.1:8080' },
  },
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rolldownOptions: { input: resolve(import.meta.dirname, 'dashboard.html') },
  },
});
