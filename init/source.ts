import { SourceError, ValidationError } from '../shared/errors.ts';
import type { LogEventFields } from '../shared/log-events.ts';
import type { Observation } from '../shared/observation.ts';
import type { SourceRecord } from './metadata.ts';
import type { Layer } from './secret-value.ts';

/** What a source read, when it could: the keys to merge and what render.json records of it. */
export interface SourceRead {
  readonly layer: Layer;
  readonly record: SourceRecord;
  /** The version read (a secret's VersionId), for logs and `check`. */
  readonly version?: string;
}

/** A warning about what was read, logged as it stands (keys and line numbers, never values). */
export type SourceWarning = {
  readonly event: 'dotenv.comment';
  readonly msg: string;
} & LogEventFields['dotenv.comment'];

/**
 * One verdict per thing a source reads (a secret, the dotenv file): `render` fails closed on any failure (exit 3)
 * or problem (exit 4); `check --remote` prints them one by one.
 */
export interface SourceVerdict {
  /** How messages and `check` name it: `secret "short-cut/prod/app"`, `dotenv "/app/.env"`. */
  readonly subject: string;
  readonly read: Observation<SourceRead>;
  /** Contents that break a rule (exit 4), each naming the subject and keys, never a value. */
  readonly problems: readonly string[];
  readonly warnings: readonly SourceWarning[];
}

/**
 * A source of keys, bound to its settings when it is wired (cli/sources.ts): render iterates its sources in order
 * and merges what they read, later wins. Adding a source is a file implementing this, a discriminant on SourceSpec
 * and a line of wiring.
 */
export interface Source {
  /** What it reads, for the start event: `secret "short-cut/prod/app"`. */
  readonly subject: string;
  /** Read over the network: render reads the local sources first and stops there if they fail (no AWS call). */
  readonly remote: boolean;
  /** Its verdicts, in the order they merge (none when an optional source is absent). */
  read(signal: AbortSignal): Promise<readonly SourceVerdict[]>;
}

/**
 * How verdicts fail closed: any failure to read is exit 3 (`reading secret "x": AccessDeniedException; ...`), and
 * only then any problem with what was read exit 4; every one named, never a value.
 */
export function failClosed(verdicts: readonly SourceVerdict[]): void {
  const failed = verdicts.flatMap((v) => (v.read.ok ? [] : [`reading ${v.subject}: ${v.read.error}`]));
  if (failed.length > 0) throw new SourceError(failed.join('; '));
  const problems = verdicts.flatMap((v) => v.problems);
  if (problems.length > 0) throw new ValidationError(`invalid secrets: ${problems.join('; ')}`);
}

/**
 * One read shared by the sources of a kind (one batch across all of them): started by the first source asked, made
 * once per signal, so that a second render (dotenv-watch) or check reads again.
 */
export function oncePerSignal<T>(read: (signal: AbortSignal) => Promise<T>): (signal: AbortSignal) => Promise<T> {
  let shared: { signal: AbortSignal; result: Promise<T> } | undefined;
  return (signal) => {
    if (shared?.signal !== signal) shared = { signal, result: read(signal) };
    return shared.result;
  };
}
