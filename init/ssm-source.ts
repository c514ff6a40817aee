import { GetParametersByPathCommand, GetParametersCommand, type Parameter } from '@aws-sdk/client-ssm';
import { awsErrorName, describeAwsError, isAccessDenied } from '../shared/aws-error.ts';
import type { SsmPort } from '../shared/aws-ports.ts';
import type { ParameterPathSourceSpec, ParameterSourceSpec, SsmSourceSpec } from '../shared/config.ts';
import type { Observation } from '../shared/observation.ts';
import { keyUnderPath } from '../shared/parameter-name.ts';
import { runBounded } from '../shared/run-bounded.ts';
import { retryThrottled } from '../shared/throttle-retry.ts';
import type { SourceRecord } from './metadata.ts';
import { keyLabel, type Layer, type SecretValue } from './secret-value.ts';
import { oncePerSignal, type Source, type SourceVerdict } from './source.ts';

/** GetParameters takes at most 10 names (the model; AWS answers ValidationException). */
export const GET_PARAMETERS_MAX = 10;
/** GetParametersByPath answers at most 10 parameters a page (MaxResults 1-10). */
export const BY_PATH_PAGE_MAX = 10;
/** Calls in flight: Parameter Store's reads share 40 requests/s per account by default. */
const CONCURRENCY = 4;

/** One parameter as read: name, value (decrypted), version and when it was last changed. */
export interface FetchedParameter {
  readonly name: string;
  readonly value: string;
  readonly version?: number;
  readonly lastModified?: Date;
}

/**
 * Reads every SSM source, decrypted: the named parameters with GetParameters, 10 names a call across all sources
 * (a name in its `InvalidParameters` is a failure, never silence), each path with GetParametersByPath (recursive,
 * every page). A call that stays throttled after the SDK's retries is tried again with jittered back-off
 * (retryThrottled), never past the deadline: the reads share a quota of 40 requests/s per account by default. One
 * observation per spec, in order (a parameter: one; a path: every parameter under it, sorted by name); a failure is
 * data here, only the deadline throws.
 */
export async function readParameters(
  specs: readonly SsmSourceSpec[],
  client: SsmPort,
  signal: AbortSignal,
): Promise<Observation<FetchedParameter[]>[]> {
  const failures = new Map<string, string>();
  const byRef = new Map<string, FetchedParameter>();
  const byPath = new Map<string, FetchedParameter[]>();

  const named = specs.filter((s): s is ParameterSourceSpec => s.type === 'ssm-parameter');
  const getChunk = async (chunk: readonly ParameterSourceSpec[]) => {
    try {
      const command = new GetParametersCommand({ Names: chunk.map((s) => s.parameter), WithDecryption: true });
      const out = await retryThrottled(() => client.send(command, { abortSignal: signal }), signal);
      const invalid = new Set(out.InvalidParameters ?? []);
      for (const s of chunk) {
        if (invalid.has(s.parameter)) {
          failures.set(
            s.parameter,
            'ParameterNotFound (listed in InvalidParameters: no such parameter, version or label)',
          );
          continue;
        }
        // A chunk holds one reference per name (chunksOf), so the name alone finds its answer.
        const p = (out.Parameters ?? []).find((x) => x.Name === s.name);
        const problem = p ? answerProblem(p, s) : 'not returned by GetParameters';
        if (problem) failures.set(s.parameter, problem);
        else byRef.set(s.parameter, fetched(p!));
      }
    } catch (err) {
      if (signal.aborted) throw err;
      for (const s of chunk) failures.set(s.parameter, parameterErrorText(err, 'ssm:GetParameters'));
    }
  };

  const readPath = async (path: string) => {
    const got = new Map<string, FetchedParameter>();
    let nextToken: string | undefined;
    try {
      do {
        const command = new GetParametersByPathCommand({
          // Sent without its final `/`, as the path's own ARN (what IAM checks) spells it.
          Path: path.slice(0, -1),
          Recursive: true,
          WithDecryption: true,
          MaxResults: BY_PATH_PAGE_MAX,
          ...(nextToken && { NextToken: nextToken }),
        });
        const out = await retryThrottled(() => client.send(command, { abortSignal: signal }), signal);
        for (const p of out.Parameters ?? []) {
          if (p.Name === undefined || keyUnderPath(path, p.Name) === undefined) {
            failures.set(path, 'GetParametersByPath answered a parameter outside the path');
            return;
          }
          if (p.Value === undefined) {
            failures.set(path, 'GetParametersByPath answered a parameter without a value');
            return;
          }
          got.set(p.Name, fetched(p));
        }
        // An answer may hold fewer than MaxResults (even none) and still have more: only the token says.
        nextToken = out.NextToken;
      } while (nextToken);
      byPath.set(
        path,
        [...got.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      );
    } catch (err) {
      if (signal.aborted) throw err;
      failures.set(path, parameterErrorText(err, 'ssm:GetParametersByPath'));
    }
  };

  const paths = [...new Set(specs.flatMap((s) => (s.type === 'ssm-path' ? [s.path] : [])))];
  await runBounded(
    [...chunksOf(named).map((c) => () => getChunk(c)), ...paths.map((p) => () => readPath(p))],
    CONCURRENCY,
  );

  return specs.map((spec): Observation<FetchedParameter[]> => {
    if (spec.type === 'ssm-parameter') {
      const p = byRef.get(spec.parameter);
      return p ? { ok: true, value: [p] } : { ok: false, error: failures.get(spec.parameter) ?? 'not read' };
    }
    const list = byPath.get(spec.path);
    if (!list) return { ok: false, error: failures.get(spec.path) ?? 'not read' };
    if (list.length === 0 && !spec.optional) {
      return { ok: false, error: 'no parameter under the path (say optional: true if it may be empty)' };
    }
    return { ok: true, value: list };
  });
}

/**
 * The distinct references in chunks of at most 10, never two of one name in a chunk (`/a` and `/a:3`): GetParameters
 * answers with the name and not the reference, so that is what tells its answers apart.
 */
export function chunksOf(specs: readonly ParameterSourceSpec[]): ParameterSourceSpec[][] {
  const chunks: ParameterSourceSpec[][] = [];
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.parameter)) continue;
    seen.add(s.parameter);
    const fits = chunks.find((c) => c.length < GET_PARAMETERS_MAX && !c.some((x) => x.name === s.name));
    if (fits) fits.push(s);
    else chunks.push([s]);
  }
  return chunks;
}

/** What is wrong with an answer to a reference, or undefined: a pinned version must be that version. */
function answerProblem(p: Parameter, s: ParameterSourceSpec): string | undefined {
  if (p.Value === undefined) return 'GetParameters answered without a value';
  if (s.selector !== undefined && /^\d+$/.test(s.selector) && p.Version !== Number(s.selector)) {
    return `GetParameters answered version ${p.Version ?? '(none)'}, not ${s.selector}`;
  }
  return undefined;
}

function fetched(p: Parameter): FetchedParameter {
  return {
    name: p.Name!,
    value: p.Value!,
    ...(p.Version !== undefined && { version: p.Version }),
    ...(p.LastModifiedDate && { lastModified: p.LastModifiedDate }),
  };
}

function parameterErrorText(err: unknown, action: string): string {
  const name = awsErrorName(err);
  if (name === 'ParameterNotFound') return 'ParameterNotFound (no such parameter)';
  if (name === 'ParameterVersionNotFound') return 'ParameterVersionNotFound (no such version or label)';
  if (name === 'InvalidKeyId')
    return 'InvalidKeyId (the KMS key of a SecureString is disabled, deleted or not allowed)';
  if (isAccessDenied(err)) return `${describeAwsError(err)} (${action}, or kms:Decrypt of a SecureString, denied)`;
  return describeAwsError(err);
}

/** How a client for the reads is had: created when the first source reads, destroyed when the reads are done. */
export interface SsmReading {
  readonly client: () => SsmPort & { destroy?: () => void };
}

/**
 * The SSM sources of a render, one per spec, in the order given: they share one read of all of them (GetParameters
 * batches names across sources), started by the first source asked and made once per signal.
 */
export function ssmSources(specs: readonly SsmSourceSpec[], reading: SsmReading): Source[] {
  const readAll = oncePerSignal((signal) => {
    const client = reading.client();
    return readParameters(specs, client, signal).finally(() => client.destroy?.());
  });
  return specs.map((spec, i) => ({
    subject: ssmSubject(spec),
    remote: true,
    read: async (signal) => [ssmVerdict(spec, (await readAll(signal))[i]!)],
  }));
}

/** `parameter "/short-cut/prod/DATABASE_URL"` or `parameter path "/short-cut/prod/"`, as written in the config. */
export function ssmSubject(spec: SsmSourceSpec): string {
  return spec.type === 'ssm-parameter' ? `parameter "${spec.parameter}"` : `parameter path "${spec.path}"`;
}

/** What render merges and check prints of one SSM source: its keys or why not; render.json gets no value. */
export function ssmVerdict(spec: SsmSourceSpec, read: Observation<readonly FetchedParameter[]>): SourceVerdict {
  const subject = ssmSubject(spec);
  if (!read.ok) return { subject, read, problems: [], warnings: [] };
  if (spec.type === 'ssm-parameter') {
    const p = read.value[0]!;
    const layer: Layer = { origin: subject, entries: new Map([[spec.key, text(p.value)]]) };
    const record: SourceRecord = { type: 'ssm-parameter', parameter: spec.parameter, ...described(p) };
    const version = p.version === undefined ? {} : { version: String(p.version) };
    return { subject, read: { ok: true, value: { layer, record, ...version } }, problems: [], warnings: [] };
  }
  const { layer, taken, problems } = pathLayer(spec, read.value);
  const record: SourceRecord = { type: 'ssm-path', path: spec.path, parameters: taken.map(described) };
  return { subject, read: { ok: true, value: { layer, record } }, problems, warnings: [] };
}

/** What render.json records of a parameter: name, version and last change, never its value. */
function described(p: FetchedParameter) {
  return {
    name: p.name,
    ...(p.version !== undefined && { version: p.version }),
    ...(p.lastModified && { lastModified: p.lastModified.toISOString() }),
  };
}

const text = (t: string): SecretValue => ({ kind: 'text', text: t });

/**
 * The keys of a path: each parameter's name relative to the path with `/` as `_`, then `keys` and `rename` as for a
 * secret. Two parameters giving one key are a problem (which would win is no rule anyone wrote down). Names are
 * shown only when their key may be: a name can hold a token where a word should be.
 */
export function pathLayer(
  spec: ParameterPathSourceSpec,
  parameters: readonly FetchedParameter[],
): { layer: Layer; taken: FetchedParameter[]; problems: string[] } {
  const origin = `parameter path "${spec.path}"`;
  const problems: string[] = [];
  const byKey = new Map<string, FetchedParameter>();
  for (const p of parameters) {
    const key = keyUnderPath(spec.path, p.name)!;
    const other = byKey.get(key);
    if (other === undefined) byKey.set(key, p);
    else if (keyLabel(key).startsWith('key "')) {
      problems.push(`${origin}: parameters "${other.name}" and "${p.name}" both give ${keyLabel(key)}`);
    } else problems.push(`${origin}: two parameters both give ${keyLabel(key)}`);
  }
  let keys = [...byKey.keys()];
  if (spec.keys) {
    for (const k of spec.keys) if (!byKey.has(k)) problems.push(`${origin} has no parameter for key "${k}"`);
    keys = [...new Set(spec.keys)].filter((k) => byKey.has(k));
  }
  const entries = new Map<string, SecretValue>();
  const taken: FetchedParameter[] = [];
  const renamedFrom = new Map<string, string>();
  for (const k of keys) {
    const name = spec.rename && Object.hasOwn(spec.rename, k) ? spec.rename[k]! : k;
    const other = renamedFrom.get(name);
    if (other !== undefined) {
      problems.push(`${origin}: ${keyLabel(other)} and ${keyLabel(k)} both become "${name}"`);
      continue;
    }
    renamedFrom.set(name, k);
    entries.set(name, text(byKey.get(k)!.value));
    taken.push(byKey.get(k)!);
  }
  for (const from of Object.keys(spec.rename ?? {})) {
    if (!keys.includes(from)) problems.push(`${origin}: rename of missing key "${from}"`);
  }
  taken.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { layer: { origin, entries }, taken, problems };
}
