import { createHash } from 'node:crypto';
import { DescribeParametersCommand, type ParameterMetadata, type ParameterStringFilter } from '@aws-sdk/client-ssm';
import { describeAwsError } from '../shared/aws-error.ts';
import type { SsmPort } from '../shared/aws-ports.ts';
import { parseBindingId } from '../shared/binding-id.ts';
import type { CallContext } from './call-context.ts';
import { byCodeUnit } from './fingerprint.ts';
import type { Observation, SecretVersion } from './model.ts';

/** DescribeParameters answers at most 50 a page, and a filter takes at most 50 values. */
export const DESCRIBE_PARAMETERS_MAX = 50;

/** What DescribeParameters says of one parameter: metadata only (it has no value to give). */
interface Seen {
  readonly name: string;
  readonly version: number | undefined;
  readonly changedAt: number | undefined;
}

/**
 * Reads the current version of every distinct parameter and path id (`ssm:NAME`, `ssm:/PATH/`) with
 * DescribeParameters, which answers metadata only (name, version, last change): the watcher never reads a value.
 * Named parameters are asked for 50 at a time (a Name filter, Equals), each path on its own (a Path filter,
 * Recursive), every page; each call goes through `ctx` (counted, bounded, under the pass deadline).
 *
 * - A parameter: `arn` is its id, `currentVersionId` its Version and LastModifiedDate (`3@2026-...Z`; the version
 *   alone starts again at 1 when a parameter is deleted and created again), `changedAt` that date.
 * - A path: `currentVersionId` is a digest over the sorted `name=version@date` lines of every parameter under it, so
 *   adding, removing or updating one changes it; `changedAt` is the latest date. An empty path is a version too (it
 *   may be optional to render, and the first parameter added to it is a change).
 * A parameter that does not exist, or a read that fails, is a failure (the error name only); ids that are not
 * parameter ids are failures too.
 */
export async function readParameterVersions(
  ssm: SsmPort,
  ids: readonly string[],
  ctx: CallContext,
): Promise<Map<string, Observation<SecretVersion>>> {
  const out = new Map<string, Observation<SecretVersion>>();
  const names = new Map<string, string>();
  const paths = new Map<string, string>();
  for (const id of new Set(ids)) {
    const parsed = parseBindingId(id);
    if ('problem' in parsed) out.set(id, { ok: false, error: parsed.problem });
    else if (parsed.kind === 'parameter') names.set(parsed.name, id);
    else if (parsed.kind === 'path') paths.set(parsed.path, id);
    else out.set(id, { ok: false, error: 'not a parameter id (ssm:NAME or ssm:/PATH/)' });
  }

  const chunks: string[][] = [];
  const list = [...names.keys()];
  for (let i = 0; i < list.length; i += DESCRIBE_PARAMETERS_MAX)
    chunks.push(list.slice(i, i + DESCRIBE_PARAMETERS_MAX));
  const readNames = async (chunk: string[]) => {
    const seen = await describeAll(ssm, { Key: 'Name', Option: 'Equals', Values: chunk }, ctx);
    for (const name of chunk) {
      const id = names.get(name)!;
      if (!seen.ok) {
        out.set(id, seen);
        continue;
      }
      const p = seen.value.find((s) => s.name === name);
      if (!p || p.version === undefined) out.set(id, { ok: false, error: 'ParameterNotFound (no such parameter)' });
      else {
        const version: SecretVersion = {
          arn: id,
          currentVersionId: versionLine(p),
          ...(p.changedAt !== undefined && { changedAt: p.changedAt }),
        };
        out.set(id, { ok: true, value: version });
      }
    }
  };
  const readPath = async (path: string, id: string) => {
    // Sent without the final `/`, as SSM spells a path.
    const seen = await describeAll(ssm, { Key: 'Path', Option: 'Recursive', Values: [path.slice(0, -1)] }, ctx);
    if (!seen.ok) {
      out.set(id, seen);
      return;
    }
    const under = seen.value.filter((p) => p.name.startsWith(path));
    const lines = under.map((p) => `${p.name}=${versionLine(p)}`).sort(byCodeUnit);
    const changed = under.flatMap((p) => (p.changedAt === undefined ? [] : [p.changedAt]));
    out.set(id, {
      ok: true,
      value: {
        arn: id,
        currentVersionId: `sha256:${createHash('sha256').update(lines.join('\n')).digest('hex')}`,
        ...(changed.length > 0 && { changedAt: Math.max(...changed) }),
      },
    });
  };
  await Promise.all([...chunks.map(readNames), ...[...paths].map(([path, id]) => readPath(path, id))]);
  return out;
}

/** Every page of DescribeParameters for one filter, or the first failure. */
async function describeAll(
  ssm: SsmPort,
  filter: ParameterStringFilter,
  ctx: CallContext,
): Promise<Observation<Seen[]>> {
  const seen: Seen[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const command = new DescribeParametersCommand({
        ParameterFilters: [filter],
        MaxResults: DESCRIBE_PARAMETERS_MAX,
        ...(nextToken && { NextToken: nextToken }),
      });
      const page = await ctx.call('DescribeParameters', (abortSignal) => ssm.send(command, { abortSignal }));
      for (const p of page.Parameters ?? []) if (p.Name) seen.push(seenOf(p));
      // A page may hold fewer than MaxResults (even none) and still have more: only the token says.
      nextToken = page.NextToken;
    } while (nextToken);
    return { ok: true, value: seen };
  } catch (err) {
    return { ok: false, error: describeAwsError(err) };
  }
}

function seenOf(p: ParameterMetadata): Seen {
  return { name: p.Name!, version: p.Version, changedAt: p.LastModifiedDate?.getTime() };
}

/** `3@2026-01-02T03:04:05.678Z`: the version and when it was written. */
function versionLine(p: Seen): string {
  const at = p.changedAt === undefined ? '' : `@${new Date(p.changedAt).toISOString()}`;
  return `${p.version ?? '?'}${at}`;
}
