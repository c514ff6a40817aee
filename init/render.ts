import { METADATA_FILE } from '../shared/contract.ts';
import { SecretsInitError, SourceError, ValidationError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { findNotUtf8, parseDotenv, scanDotenv } from './dotenv-source.ts';
import { renderMetadata, type SourceRecord } from './metadata.ts';
import { type WriterFs, writeOutputs } from './output-writer.ts';
import { parsePayload } from './payload.ts';
import { type OutputFile, type Plan, planOutputs } from './plan.ts';
import type { RenderSettings } from './render-settings.ts';
import { keyLabel, type Layer, mergeLayers, shownKey } from './secret-value.ts';
import type { FetchedSecret } from './secrets-manager-source.ts';

/** The I/O render needs, passed in: tests swap any of them without patching modules. */
export interface RenderDeps {
  readonly logger: Logger;
  readonly now: () => Date;
  readonly readFile: (path: string) => Promise<Buffer>;
  /** Reads the Secrets Manager sources; only called in production, so local mode makes no AWS call at all. */
  readonly fetchSecrets: (settings: RenderSettings, signal: AbortSignal) => Promise<FetchedSecret[]>;
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
  const deadline = new AbortController();
  const seconds = settings.timeoutMs / 1000;
  const timer = setTimeout(() => deadline.abort(`deadline of ${seconds}s exceeded`), settings.timeoutMs);
  const signal = stop ? AbortSignal.any([deadline.signal, stop]) : deadline.signal;
  let prepared: Prepared;
  try {
    prepared = await withDeadline(prepare(settings, deps, signal), signal, stop);
  } finally {
    clearTimeout(timer);
  }
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
  logger.info(
    { event: 'render.start', appEnv: settings.appEnv, sources: settings.sources.map((s) => s.secretId) },
    'render started',
  );
  const layers: Layer[] = [];
  const records: SourceRecord[] = [];

  const dotenv = await readDotenv(settings, deps);
  if (dotenv) {
    const notUtf8 = findNotUtf8(dotenv);
    if (notUtf8.length > 0) {
      // Decoding would put U+FFFD where those bytes are: a value other than the file holds. Never show the bytes.
      const where = notUtf8.map((f) =>
        f.key === undefined ? `line ${f.line}` : `${keyLabel(f.key)} (line ${f.line})`,
      );
      throw new ValidationError(
        `dotenv "${settings.dotenvPath}": not valid UTF-8 (save it as UTF-8): ${where.join(', ')}`,
      );
    }
    const { unclosed, cutAtHash } = scanDotenv(dotenv);
    if (unclosed.length > 0) {
      const where = unclosed.map((f) => `${keyLabel(f.key)} (line ${f.line})`).join(', ');
      throw new ValidationError(`dotenv "${settings.dotenvPath}": a quote is opened and never closed: ${where}`);
    }
    layers.push(parseDotenv(dotenv, settings.dotenvPath));
    for (const { key, line } of cutAtHash) {
      logger.warn(
        { event: 'dotenv.comment', path: settings.dotenvPath, line, key: shownKey(key) },
        'an unquoted value contains "#": the dotenv parser cuts it there; quote the value',
      );
    }
    records.push({ type: 'dotenv', path: settings.dotenvPath });
  }

  if (settings.appEnv === 'production') {
    const fetched = await deps.fetchSecrets(settings, signal);
    const problems: string[] = [];
    for (const f of fetched) {
      const { layer, problems: p } = parsePayload(f);
      problems.push(...p);
      layers.push(layer);
      records.push({
        type: 'secretsmanager',
        secretId: f.spec.secretId,
        ...(f.arn && { arn: f.arn }),
        ...(f.versionId && { versionId: f.versionId }),
        versionStages: f.versionStages,
      });
      logger.info(
        {
          event: 'source.read',
          secretId: f.spec.secretId,
          versionId: f.versionId,
          keys: [...layer.entries.keys()].map(shownKey),
        },
        'secret read',
      );
    }
    if (problems.length > 0) throw new ValidationError(`invalid secrets: ${problems.join('; ')}`);
  }

  const plan = planLayers(settings, layers);
  const keys = [...plan.vars.keys()].sort();
  const metadata = {
    name: METADATA_FILE,
    mode: settings.fileMode,
    content: Buffer.from(
      renderMetadata({ renderedAt: deps.now(), appEnv: settings.appEnv, sources: records, keys, files: plan.files }),
      'utf8',
    ),
  };
  return { files: plan.files, metadata, keys };
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
    logger.warn(
      { event: 'render.leftover', dir: settings.outputDir, files: result.leftover },
      'files of an earlier render could not be removed; remove them by hand',
    );
  }
  logger.info(
    {
      event: 'render.done',
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

async function readDotenv(settings: RenderSettings, deps: RenderDeps): Promise<Buffer | undefined> {
  try {
    return await deps.readFile(settings.dotenvPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    const optional = settings.appEnv === 'production' && !settings.dotenvExplicit && code === 'ENOENT';
    if (optional) return undefined;
    throw new SourceError(`dotenv "${settings.dotenvPath}": ${code}`, { cause: err });
  }
}

/**
 * Ends the run when the signal fires even if an SDK call ignores its abort signal. A stop request (SIGTERM,
 * SIGINT) is not a source failure: it exits 128 + the signal number, as a shell reports it.
 */
function withDeadline<T>(work: Promise<T>, signal: AbortSignal, stop?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      if (stop?.aborted) {
        const sig = String(stop.reason);
        reject(
          new SecretsInitError(`stopped by ${sig} before writing; nothing was changed`, sig === 'SIGINT' ? 130 : 143),
        );
      } else reject(new SourceError(`render stopped: ${String(signal.reason)}`));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
