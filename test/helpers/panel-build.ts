// The built panel (web/dist) for the browser tests. `make test` builds it first; a test builds
// it again only when a panel source is newer, so a test never empties web/dist (vite's build
// does) while another test's browser is loading pages from it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const webDir = path.resolve(import.meta.dirname, '..', '..', 'web');

/** Rebuilds web/dist when a panel source is newer than the build. */
export async function ensurePanelBuilt(): Promise<void> {
  const built = path.join(webDir, 'dist', 'index.html');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
      const p = path.join(dir, entry.name);
      return Math.max(max, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  const sources = Math.max(
    newest(path.join(webDir, 'src')),
    statSync(path.join(webDir, 'index.html')).mtimeMs,
    statSync(path.join(webDir, 'vite.config.ts')).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const { build } = await import('vite');
  await build({ configFile: path.join(webDir, 'vite.config.ts'), logLevel: 'warn' });
}
