import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Podman } from './podman.ts';

/** One layer of an image: the step that made it and its size as a registry stores it. */
export interface ImageLayer {
  /** The history entry's `created_by` (a Dockerfile step, or how the base image was made). */
  readonly createdBy: string;
  /** Compressed as `podman push` does by default (gzip). */
  readonly gzipBytes: number;
  /** Compressed with zstd (`podman push --compression-format zstd`), which ECR and Fargate accept too. */
  readonly zstdBytes: number;
}

interface Manifest {
  readonly layers: readonly { readonly size: number }[];
}

/**
 * The image's layers, in order, as a registry stores them: what Fargate, which caches no image, downloads (and
 * unpacks) at every task start. Written under `dir` (removed first): the gzip form with `podman save --compress`,
 * the zstd form with `podman push` into an OCI layout.
 */
export async function compressedLayers(pm: Podman, image: string, dir: string): Promise<ImageLayer[]> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const podman = async (args: string[]) => {
    const res = await pm.podman(args, { timeoutMs: 300_000 });
    if (res.code !== 0) throw new Error(`podman ${args[0]} ${image}: ${res.stderr.trim().split('\n').pop()}`);
    return res.stdout;
  };
  const gzipDir = join(dir, 'gzip');
  await podman(['save', '--format', 'docker-dir', '--compress', '-o', gzipDir, image]);
  const gzip = JSON.parse(readFileSync(join(gzipDir, 'manifest.json'), 'utf8')) as Manifest;

  const zstdDir = join(dir, 'zstd');
  await podman(['push', '--compression-format', 'zstd', image, `oci:${zstdDir}:image`]);
  const index = JSON.parse(readFileSync(join(zstdDir, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const blob = (digest: string) => join(zstdDir, 'blobs', ...digest.split(':'));
  const zstd = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as Manifest;

  const history = JSON.parse(await podman(['image', 'inspect', '--format', '{{json .History}}', image])) as {
    created_by?: string;
    empty_layer?: boolean;
  }[];
  const steps = history.filter((h) => !h.empty_layer).map((h) => h.created_by ?? '');
  if (steps.length !== gzip.layers.length || zstd.layers.length !== gzip.layers.length) {
    throw new Error(
      `${image}: ${steps.length} layer steps, ${gzip.layers.length} gzip and ${zstd.layers.length} zstd layers`,
    );
  }
  return gzip.layers.map((l, i) => ({
    createdBy: steps[i]!,
    gzipBytes: l.size,
    zstdBytes: zstd.layers[i]!.size,
  }));
}
