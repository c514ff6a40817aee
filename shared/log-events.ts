import type { Logger } from './logger.ts';

/**
 * Every event the product logs, with its fields beside `event` and `msg` (pino adds `level`, `time` and `name`, and
 * the logger's bindings theirs). Each logger call goes through `logEvent`, so a misspelt event, a field it does not
 * have or a missing one is a type error; docs/logs.md documents these (test/unit/docs-pages.test.ts).
 */
export interface LogEventFields {
  // render (init/)
  readonly 'render.start': { readonly appEnv: string; readonly sources: readonly string[] };
  readonly 'dotenv.comment': { readonly path: string; readonly line: number; readonly key: string };
  readonly 'batch.denied': { readonly error: string };
  readonly 'batch.throttled': { readonly error: string };
  readonly 'source.read': { readonly source: string; readonly version?: string; readonly keys: readonly string[] };
  readonly 'render.leftover': { readonly dir: string; readonly files: readonly string[] };
  readonly 'render.done': {
    readonly dir: string;
    readonly changed: boolean;
    readonly files: readonly string[];
    readonly removed: readonly string[];
    readonly keys: readonly string[];
  };
  /** The line a library printed is the `msg`. */
  readonly 'library.console': Record<never, never>;
  // render --watch (init/dotenv-watch.ts)
  readonly 'dotenv-watch.ready': { readonly path: string };
  readonly 'render.failed': { readonly exitCode: number; readonly error: string };
  readonly 'dotenv-watch.error': { readonly error: string };
  readonly 'dotenv-watch.stopped': Record<never, never>;
  // watch (cli/watch-command.ts, watcher/run-pass.ts)
  readonly 'watch.start': {
    readonly mode: 'once' | 'loop';
    readonly bindings: string;
    readonly clusters: readonly string[];
    readonly intervalMs?: number;
    readonly maxRedeploys: number;
    readonly capWindowMs: number;
    readonly signed: boolean;
    readonly dryRun: boolean;
  };
  readonly 'watch.unsigned': Record<never, never>;
  readonly 'watch.failure': {
    readonly cluster: string;
    readonly service: string | null;
    readonly secretId: string | null;
    readonly stage: string;
    readonly error: string;
  };
  readonly 'watch.deployment': {
    readonly cluster: string;
    readonly service: string;
    readonly deployment: string | null;
    readonly result: string;
    readonly fingerprint: string;
  };
  readonly 'watch.decision': {
    readonly cluster: string;
    readonly service: string;
    readonly decision: string;
    readonly reason: string;
    readonly oldFingerprint: string | null;
    readonly newFingerprint: string;
    readonly trust: string;
    readonly secretIds: readonly string[];
    readonly mutableImages?: readonly string[];
    readonly dryRun: boolean;
  };
  readonly 'watch.outcome': {
    readonly cluster: string;
    readonly service: string;
    readonly outcome: string;
    readonly reason?: string;
    readonly stage?: string;
    readonly error?: string;
  };
  /** The pass's summary, and its metrics as Embedded Metric Format (`_aws` and a field per metric, metrics.ts). */
  readonly 'watch.pass': {
    readonly services: number;
    readonly secrets: number;
    readonly unchanged: number;
    readonly due: number;
    readonly waiting: number;
    readonly excluded: number;
    readonly recorded: number;
    readonly redeployed: number;
    readonly deferred: number;
    readonly unknown: number;
    readonly failures: number;
    readonly apiCalls: Readonly<Record<string, number>>;
    readonly durationMs: number;
    readonly dryRun: boolean;
  } & Readonly<Record<string, unknown>>;
  readonly 'watch.stop': { readonly passes: number; readonly signal: string };
}

export type LogEventName = keyof LogEventFields;

/** The levels events are logged at. */
export type EventLevel = 'info' | 'warn' | 'error';

interface EventSpec<E extends LogEventName> {
  readonly levels: readonly EventLevel[];
  /** Fields the logger's bindings add to these lines: `pass`, on the lines of one pass (run-pass.ts). */
  readonly bound?: readonly string[];
  /** Its fields, in the order a line has them. */
  readonly fields: readonly NamedKeys<LogEventFields[E]>[];
}

/** Each event's levels and field names: what docs/logs.md's tables are checked against. */
export const LOG_EVENTS = {
  'render.start': { levels: ['info'], fields: ['appEnv', 'sources'] },
  'dotenv.comment': { levels: ['warn'], fields: ['path', 'line', 'key'] },
  'batch.denied': { levels: ['warn'], fields: ['error'] },
  'batch.throttled': { levels: ['warn'], fields: ['error'] },
  'source.read': { levels: ['info'], fields: ['source', 'version', 'keys'] },
  'render.leftover': { levels: ['warn'], fields: ['dir', 'files'] },
  'render.done': { levels: ['info'], fields: ['dir', 'changed', 'files', 'removed', 'keys'] },
  'library.console': { levels: ['warn'], fields: [] },
  'dotenv-watch.ready': { levels: ['info'], fields: ['path'] },
  'render.failed': { levels: ['error'], fields: ['exitCode', 'error'] },
  'dotenv-watch.error': { levels: ['error'], fields: ['error'] },
  'dotenv-watch.stopped': { levels: ['info'], fields: [] },
  'watch.start': {
    levels: ['info'],
    fields: ['mode', 'bindings', 'clusters', 'intervalMs', 'maxRedeploys', 'capWindowMs', 'signed', 'dryRun'],
  },
  'watch.unsigned': { levels: ['warn'], fields: [] },
  'watch.failure': {
    levels: ['error'],
    bound: ['pass'],
    fields: ['cluster', 'service', 'secretId', 'stage', 'error'],
  },
  'watch.deployment': {
    levels: ['info', 'error'],
    bound: ['pass'],
    fields: ['cluster', 'service', 'deployment', 'result', 'fingerprint'],
  },
  'watch.decision': {
    levels: ['info'],
    bound: ['pass'],
    fields: [
      'cluster',
      'service',
      'decision',
      'reason',
      'oldFingerprint',
      'newFingerprint',
      'trust',
      'secretIds',
      'mutableImages',
      'dryRun',
    ],
  },
  'watch.outcome': {
    levels: ['info', 'error'],
    bound: ['pass'],
    fields: ['cluster', 'service', 'outcome', 'reason', 'stage', 'error'],
  },
  'watch.pass': {
    levels: ['info', 'warn'],
    bound: ['pass'],
    fields: [
      'services',
      'secrets',
      'unchanged',
      'due',
      'waiting',
      'excluded',
      'recorded',
      'redeployed',
      'deferred',
      'unknown',
      'failures',
      'apiCalls',
      'durationMs',
      'dryRun',
    ],
  },
  'watch.stop': { levels: ['info'], fields: ['passes', 'signal'] },
} as const satisfies { readonly [E in LogEventName]: EventSpec<E> };

/** The levels an event may be logged at. */
export type LevelOf<E extends LogEventName> = (typeof LOG_EVENTS)[E]['levels'][number];

/** Logs one event: `{ event, ...fields }` with `msg`, at one of the event's levels. */
export function logEvent<E extends LogEventName>(
  log: Logger,
  level: LevelOf<E>,
  event: E,
  fields: LogEventFields[E],
  msg: string,
): void {
  const line: Record<string, unknown> = { event, ...fields };
  log[level](line, msg);
}

/** The named fields of a type (an index signature, as the metrics' of `watch.pass`, names none). */
type NamedKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] } & string;

/** Compiles only when `T` is never: here, the fields an event has that LOG_EVENTS does not list. */
type NoneOf<T extends never> = T;
/** Every field of every event is listed in LOG_EVENTS (so the docs test sees them all). */
export type EveryFieldListed = NoneOf<
  {
    [E in LogEventName]: Exclude<NamedKeys<LogEventFields[E]>, (typeof LOG_EVENTS)[E]['fields'][number]>;
  }[LogEventName]
>;
