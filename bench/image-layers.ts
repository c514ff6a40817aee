import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Bundles, entryOf, ROOT } from './bundles.ts';

// What each way of starting the CLI adds to the init image, as a registry stores it and as Fargate, which caches
// no image, downloads and unpacks it at every task start: one gzip-compressed tar of the files.

export type ImageStart = 'shipped' | 'single' | 'snapshot';

export interface Layer {
  readonly start: ImageStart;
  readonly label: string;
  /** The layer as the registry stores it (tar, gzip). */
  readonly file: string;
  readonly tarBytes: number;
  readonly gzipBytes: number;
  /** Of tarBytes, the compile cache's files. */
  readonly cacheBytes: number;
}

/**
 * Node's compile cache for the bundle in directory `app`, filled into `cache` as Dockerfile.init fills the image's:
 * `render --help` (the entry and the render command), then every chunk `render` can load
 * (scripts/warm-compile-cache.mjs). Node keys
 * a cache entry by the module's path: it serves runs of this very `app` directory only.
 */
export function fillImageCache(app: string, cache: string): void {
  const env = { PATH: process.env.PATH, NODE_COMPILE_CACHE: cache };
  execFileSync(process.execPath, [entryOf(app), 'render', '--help'], { env });
  if (existsSync(join(app, 'chunks'))) {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'warm-compile-cache.mjs'), app], { env });
  }
}

/**
 * shipped: the bundle, its chunks and the compile cache the image fills with this Node (fillImageCache); single: the
 * same for the one-file bundle; snapshot: the blob alone (it holds the CLI).
 */
export function buildLayers(dir: string, b: Bundles): Layer[] {
  const layer = (start: ImageStart, label: string, fill: (app: string) => void): Layer => {
    const root = join(dir, `layer-${start}`);
    const app = join(root, 'app');
    mkdirSync(app, { recursive: true });
    fill(app);
    const tar = join(dir, `layer-${start}.tar`);
    execFileSync('tar', ['-cf', tar, '-C', root, 'app']);
    execFileSync('gzip', ['-6', '--keep', '--force', tar]);
    const cache = join(app, 'compile-cache');
    const cacheBytes = existsSync(cache)
      ? Number(execFileSync('du', ['-sb', cache], { encoding: 'utf8' }).split('\t')[0])
      : 0;
    const sizes = { tarBytes: statSync(tar).size, gzipBytes: statSync(`${tar}.gz`).size, cacheBytes };
    return { start, label, file: `${tar}.gz`, ...sizes };
  };
  const bundle = (entry: string) => (app: string) => {
    copyFileSync(entry, entryOf(app));
    const chunks = join(dirname(entry), 'chunks');
    if (existsSync(chunks)) cpSync(chunks, join(app, 'chunks'), { recursive: true });
    fillImageCache(app, join(app, 'compile-cache'));
  };
  return [
    layer('shipped', 'bundle + chunks + compile cache', bundle(b.shipped)),
    layer('single', 'one-file bundle + compile cache', bundle(b.single)),
    layer('snapshot', 'startup snapshot blob', (app) => copyFileSync(b.snapshot, join(app, 'secrets-init.blob'))),
  ];
}
