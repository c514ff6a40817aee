import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type SecretValueEntry,
} from '@aws-sdk/client-secrets-manager';
import { awsErrorName, describeAwsError, isAccessDenied, isThrottling } from '../shared/aws-error.ts';
import type { SecretsPort } from '../shared/aws-ports.ts';
import type { SecretSourceSpec } from '../shared/config.ts';
import { logEvent } from '../shared/log-events.ts';
import type { Logger } from '../shared/logger.ts';
import type { Observation } from '../shared/observation.ts';
import { runBounded } from '../shared/run-bounded.ts';
import { retryThrottled } from '../shared/throttle-retry.ts';
import { parsePayload, type SecretPayload } from './payload.ts';
import { oncePerSignal, type Source, type SourceVerdict } from './source.ts';

/** BatchGetSecretValue takes at most 20 ids (moto does not enforce it; we do). */
export const BATCH_LIMIT = 20;
const CONCURRENCY = 4;

export interface FetchedSecret extends SecretPayload {
  readonly arn?: string;
  readonly name?: string;
  readonly versionId?: string;
  readonly versionStages: readonly string[];
}

interface Ctx {
  readonly client: SecretsPort;
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/**
 * Reads every secret: unpinned ones with BatchGetSecretValue in chunks of 20 (its per-secret Errors[] are
 * failures), pinned ones (versionStage/versionId) with GetSecretValue. If BatchGet is denied, or stays throttled
 * after the SDK's retries (its quota is 100 requests/s per account and cannot be raised, so a large scale-out
 * exhausts it), the same ids are read one by one with GetSecretValue (10,000/s), and so are the remaining chunks.
 * A GetSecretValue that stays throttled is tried again with jittered back-off (retryThrottled) until the
 * deadline. One observation per spec, in order: a failure is data here; only the deadline throws.
 */
export async function readSecrets(
  specs: readonly SecretSourceSpec[],
  client: SecretsPort,
  signal: AbortSignal,
  logger: Logger,
): Promise<Observation<FetchedSecret>[]> {
  const ctx: Ctx = { client, signal, logger };
  const failures = new Map<string, string>();
  const byId = new Map<string, SecretValueEntry>();

  const pinned = specs.filter((s) => s.versionId !== undefined || s.versionStage !== undefined);
  const unpinned = [...new Set(specs.filter((s) => !pinned.includes(s)).map((s) => s.secretId))];
  const chunks: string[][] = [];
  for (let i = 0; i < unpinned.length; i += BATCH_LIMIT) chunks.push(unpinned.slice(i, i + BATCH_LIMIT));

  /** Set once BatchGet is denied or throttled past retries: every later chunk goes straight to GetSecretValue. */
  let batchUnavailable = false;
  const single = async (id: string, stage?: string, versionId?: string) => {
    const command = new GetSecretValueCommand({
      SecretId: id,
      // Name the stage even for AWSCURRENT: a bare call may return a stale version on some emulators.
      ...(versionId ? { VersionId: versionId } : { VersionStage: stage ?? 'AWSCURRENT' }),
    });
    try {
      const out = await retryThrottled(() => ctx.client.send(command, { abortSignal: ctx.signal }), ctx.signal);
      return out as SecretValueEntry;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      failures.set(id, describeSecretError(err));
      return undefined;
    }
  };

  const batch = async (ids: string[]) => {
    if (!batchUnavailable) {
      try {
        let nextToken: string | undefined;
        const got: SecretValueEntry[] = [];
        do {
          const out = await ctx.client.send(
            new BatchGetSecretValueCommand({ SecretIdList: ids, ...(nextToken && { NextToken: nextToken }) }),
            { abortSignal: ctx.signal },
          );
          got.push(...(out.SecretValues ?? []));
          for (const e of out.Errors ?? []) {
            // ErrorCode is server text: it goes through the same filter as a thrown error's name.
            failures.set(
              e.SecretId ?? '(unknown)',
              secretErrorText(e.ErrorCode ?? '', describeAwsError({ name: e.ErrorCode })),
            );
          }
          nextToken = out.NextToken;
        } while (nextToken);
        for (const id of ids) {
          const hit = got.find((v) => id === v.Name || id === v.ARN) ?? got.find((v) => matchesPartialArn(id, v));
          if (hit) byId.set(id, hit);
          else if (!failures.has(id)) failures.set(id, 'not returned by BatchGetSecretValue');
        }
        return;
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        const denied = isAccessDenied(err);
        if (!denied && !isThrottling(err)) {
          for (const id of ids) failures.set(id, describeSecretError(err));
          return;
        }
        if (!batchUnavailable) {
          batchUnavailable = true;
          logEvent(
            ctx.logger,
            'warn',
            denied ? 'batch.denied' : 'batch.throttled',
            { error: describeAwsError(err) },
            `BatchGetSecretValue ${denied ? 'denied' : 'throttled past retries'}; falling back to GetSecretValue per secret`,
          );
        }
      }
    }
    for (const id of ids) {
      const v = await single(id);
      if (v) byId.set(id, v);
    }
  };

  const pinnedResults = new Map<SecretSourceSpec, SecretValueEntry>();
  const jobs: (() => Promise<void>)[] = [
    ...chunks.map((ids) => () => batch(ids)),
    ...pinned.map((s) => async () => {
      const v = await single(s.secretId, s.versionStage, s.versionId);
      if (v) pinnedResults.set(s, v);
    }),
  ];
  await runBounded(jobs, CONCURRENCY);
  return specs.map((spec): Observation<FetchedSecret> => {
    const v = pinnedResults.get(spec) ?? byId.get(spec.secretId);
    if (!v) return { ok: false, error: failures.get(spec.secretId) ?? 'not read' };
    return {
      ok: true,
      value: {
        spec,
        ...(v.ARN && { arn: v.ARN }),
        ...(v.Name && { name: v.Name }),
        ...(v.VersionId && { versionId: v.VersionId }),
        versionStages: v.VersionStages ?? [],
        ...(v.SecretString !== undefined && { secretString: v.SecretString }),
        ...(v.SecretBinary !== undefined && { secretBinary: v.SecretBinary }),
      },
    };
  });
}

/**
 * A partial ARN (without the 6-char suffix) matches a returned ARN. Tried only after exact name/ARN matches:
 * the full ARN of "app" is also the partial ARN of a secret named "app-AbCdEf".
 */
function matchesPartialArn(id: string, v: SecretValueEntry): boolean {
  return id.startsWith('arn:') && v.ARN?.startsWith(`${id}-`) === true && v.ARN.length === id.length + 7;
}

function describeSecretError(err: unknown): string {
  return secretErrorText(awsErrorName(err) ?? '', describeAwsError(err));
}

function secretErrorText(code: string, fallback = code): string {
  if (code === 'ResourceNotFoundException') return 'ResourceNotFoundException (no such secret or version)';
  if (code === 'InvalidRequestException') return 'InvalidRequestException (secret deleted or scheduled for deletion?)';
  if (code === 'DecryptionFailure') return 'DecryptionFailure (kms:Decrypt denied or key disabled)';
  return fallback;
}

/** How a client for the reads is had: created when the first source reads, destroyed when the reads are done. */
export interface SecretsManagerReading {
  readonly client: () => SecretsPort & { destroy?: () => void };
  readonly logger: Logger;
}

/**
 * The Secrets Manager sources of a render, one per spec, in the order given: they share one read of all of them
 * (BatchGetSecretValue batches across sources), started by the first source asked and made once per signal.
 */
export function secretsManagerSources(specs: readonly SecretSourceSpec[], reading: SecretsManagerReading): Source[] {
  const readAll = oncePerSignal((signal) => {
    const client = reading.client();
    return readSecrets(specs, client, signal, reading.logger).finally(() => client.destroy?.());
  });
  return specs.map((spec, i) => ({
    subject: secretSubject(spec),
    remote: true,
    read: async (signal) => [secretVerdict(spec, (await readAll(signal))[i]!)],
  }));
}

function secretSubject(spec: SecretSourceSpec): string {
  return `secret "${spec.secretId}"`;
}

/** What render merges and check prints of one secret: its keys (parsed from the payload) or why not. */
export function secretVerdict(spec: SecretSourceSpec, fetched: Observation<FetchedSecret>): SourceVerdict {
  const subject = secretSubject(spec);
  if (!fetched.ok) return { subject, read: fetched, problems: [], warnings: [] };
  const f = fetched.value;
  const { layer, problems } = parsePayload(f);
  const record = {
    type: 'secretsmanager' as const,
    secretId: spec.secretId,
    ...(f.arn && { arn: f.arn }),
    ...(f.versionId && { versionId: f.versionId }),
    versionStages: f.versionStages,
  };
  return {
    subject,
    read: { ok: true, value: { layer, record, ...(f.versionId && { version: f.versionId }) } },
    problems,
    warnings: [],
  };
}
