import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundles } from './bundles.ts';

// What each way of starting the CLI adds to the init image, as a registry stores it and as Fargate, which caches
// no image, downloads and unpacks it at every task start: one gzip-compressed tar of the files.

export type ImageStart = 'shipped' | 'snapshot';

export interface Layer {
  readonly start: ImageStart;
  readonly label: string;
  /** The layer as the registry stores it (tar, gzip). */
  readonly file: string;
  readonly tarBytes: number;
  readonly gzipBytes: number;
}

/**
 * shipped: the bundle and the compile cache that `render --help` fills with this Node (as Dockerfile.init does);
 * snapshot: the blob alone (it holds the CLI).
 */
export function buildLayers(dir: string, b: Bundles): Layer[] {
  const layer = (start: ImageStart, label: string, fill: (app: string) => void): Layer => {
    const root = join(dir, `layer-${start}`);
    mkdirSync(join(root, 'app'), { recursive: true });
    fill(join(root, 'app'));
    const tar = join(dir, `layer-${start}.tar`);
    execFileSync('tar', ['-cf', tar, '-C', root, 'app']);
    execFileSync('gzip', ['-6', '--keep', '--force', tar]);
    return { start, label, file: `${tar}.gz`, tarBytes: statSync(tar).size, gzipBytes: statSync(`${tar}.gz`).size };
  };
  return [
    layer('shipped', 'bundle + compile cache', (app) => {
      copyFileSync(b.shipped, join(app, 'secrets-init.mjs'));
      execFileSync(process.execPath, [join(app, 'secrets-init.mjs'), 'render', '--help'], {
        env: { PATH: process.env.PATH, NODE_COMPILE_CACHE: join(app, 'compile-cache') },
      });
    }),
    layer('snapshot', 'startup snapshot blob', (app) => copyFileSync(b.snapshot, join(app, 'secrets-init.blob'))),
  ];
}
