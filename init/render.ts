import { METADATA_FILE } from '../shared/contract.ts';
import { withDeadline } from '../shared/deadline.ts';
import { logEvent } from '../shared/log-events.ts';
import type { Logger } from '../shared/logger.ts';
import { renderMetadata } from './metadata.ts';
import { type WriterFs, writeOutputs } from './output-writer.ts';
import { type OutputFile, type Plan, planOutputs } from './plan.ts';
import type { RenderSettings } from './render-settings.ts';
import { type Layer, mergeLayers, shownKey } from './secret-value.ts';
import { failClosed, type Source, type SourceRead, type SourceVerdict } from './source.ts';

/** What render reads and writes through, passed in: tests swap any of them without patching modules. */
export interface RenderDeps {
  readonly logger: Logger;
  readonly now: () => Date;
  /** In merge order, later wins: the dotenv file first, then the config's sources (none in local mode). */
  readonly sources: readonly Source[];
  readonly fs?: WriterFs;
}

export interface RenderOutcome {
  readonly changed: boolean;
  readonly keys: readonly string[];
  readonly files: readonly string[];
}

/**
 * One render: read sources (dotenv under Secrets Manager), validate, write app.env, mapped files and
 * render.json all-or-nothing. The whole run has a deadline; `stop` (SIGTERM) aborts it too.
 */
export async function render(settings: RenderSettings, deps: RenderDeps, stop?: AbortSignal): Promise<RenderOutcome> {
  const prepared = await withDeadline(
    {
      timeoutMs: settings.timeoutMs,
      what: 'render',
      stopNote: 'before writing; nothing was changed',
      ...(stop && { stop }),
    },
    (signal) => prepare(settings, deps, signal),
  );
  // No deadline while writing: it is local and short, and stopping between two renames is what must not happen.
  return write(settings, deps, prepared);
}

interface Prepared {
  readonly files: readonly OutputFile[];
  readonly metadata: OutputFile;
  readonly keys: readonly string[];
}

async function prepare(settings: RenderSettings, deps: RenderDeps, signal: AbortSignal): Promise<Prepared> {
  const { logger } = deps;
  const subjects = deps.sources.map((s) => s.subject);
  logEvent(logger, 'info', 'render.start', { appEnv: settings.appEnv, sources: subjects }, 'render started');
  const reads = await readSources(deps.sources, signal);
  for (const r of reads) {
    logEvent(
      logger,
      'info',
      'source.read',
      {
        source: r.subject,
        ...(r.version && { version: r.version }),
        keys: [...r.layer.entries.keys()].map(shownKey),
      },
      'source read',
    );
  }
  const plan = planLayers(
    settings,
    reads.map((r) => r.layer),
  );
  const keys = [...plan.vars.keys()].sort();
  const sources = reads.map((r) => r.record);
  const metadata = {
    name: METADATA_FILE,
    mode: settings.fileMode,
    content: Buffer.from(
      renderMetadata({ renderedAt: deps.now(), appEnv: settings.appEnv, sources, keys, files: plan.files }),
      'utf8',
    ),
  };
  return { files: plan.files, metadata, keys };

  /**
   * Every source's verdicts, in merge order, failing closed: any failure to read is exit 3, any problem with what
   * was read exit 4, each named. Local sources are read first: when they fail, no AWS call is made.
   */
  async function readSources(
    sources: readonly Source[],
    s: AbortSignal,
  ): Promise<(SourceRead & { subject: string })[]> {
    const verdicts = new Map<Source, readonly SourceVerdict[]>();
    const settle = (list: readonly Source[]) =>
      Promise.all(list.map(async (src) => verdicts.set(src, await src.read(s))));
    await settle(sources.filter((src) => !src.remote));
    failClosed([...verdicts.values()].flat());
    await settle(sources.filter((src) => src.remote));
    const all = sources.flatMap((src) => verdicts.get(src) ?? []);
    failClosed(all);
    for (const { event, msg, ...fields } of all.flatMap((v) => v.warnings)) {
      logEvent(logger, 'warn', event, fields, msg);
    }
    return all.flatMap((v) => (v.read.ok ? [{ ...v.read.value, subject: v.subject }] : []));
  }
}

async function write(settings: RenderSettings, deps: RenderDeps, p: Prepared): Promise<RenderOutcome> {
  const { logger } = deps;
  const { metadata, keys } = p;
  const result = await writeOutputs(settings.outputDir, p.files, {
    metadata,
    ...(settings.owner && { owner: settings.owner }),
    ...(deps.fs && { fs: deps.fs }),
  });
  const files = p.files.map((f) => f.name);
  if (result.leftover.length > 0) {
    logEvent(
      logger,
      'warn',
      'render.leftover',
      { dir: settings.outputDir, files: result.leftover },
      'files of an earlier render could not be removed; remove them by hand',
    );
  }
  logEvent(
    logger,
    'info',
    'render.done',
    {
      dir: settings.outputDir,
      changed: result.changed,
      files: result.changed ? [...files, METADATA_FILE] : files,
      removed: result.removed,
      keys,
    },
    result.changed ? 'secrets rendered' : 'secrets unchanged; nothing rewritten',
  );
  return { changed: result.changed, keys, files };
}

/** Merges the layers (later wins) and plans the files under the settings' rules; throws ValidationError. */
export function planLayers(settings: RenderSettings, layers: readonly Layer[]): Plan {
  return planOutputs({
    merged: mergeLayers(layers),
    files: settings.files,
    required: settings.required,
    allowKeys: settings.allowKeys,
    outputDir: settings.outputDir,
    fileMode: settings.fileMode,
  });
}
