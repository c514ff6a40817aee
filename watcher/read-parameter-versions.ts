import { createHash } from 'node:crypto';
import { DescribeParametersCommand, type ParameterMetadata, type ParameterStringFilter } from '@aws-sdk/client-ssm';
import { describeAwsError } from '../shared/aws-error.ts';
import type { SsmPort } from '../shared/aws-ports.ts';
import { parseBindingId } from '../shared/binding-id.ts';
import type { CallContext } from './call-context.ts';
import { byCodeUnit } from './fingerprint.ts';
import type { Observation, SecretVersion } from './model.ts';
import { observeEach } from './observe-each.ts';

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
export function readParameterVersions(
  ssm: SsmPort,
  ids: readonly string[],
  ctx: CallContext,
): Promise<Map<string, Observation<SecretVersion>>> {
  const parsed = new Map(ids.map((id) => [id, parseBindingId(id)]));
  const names = [...parsed.values()].flatMap((p) => ('kind' in p && p.kind === 'parameter' ? [p.name] : []));
  // Named parameters are asked for 50 a call, all calls started here; each id then takes its answer from its call's.
  const byName = new Map<string, Promise<Observation<Seen[]>>>();
  for (let i = 0; i < names.length; i += DESCRIBE_PARAMETERS_MAX) {
    const chunk = names.slice(i, i + DESCRIBE_PARAMETERS_MAX);
    const seen = describeAll(ssm, { Key: 'Name', Option: 'Equals', Values: chunk }, ctx);
    for (const name of chunk) byName.set(name, seen);
  }
  return observeEach(parsed.keys(), async (id): Promise<Observation<SecretVersion>> => {
    const p = parsed.get(id)!;
    if ('problem' in p) return { ok: false, error: p.problem };
    if (p.kind === 'parameter') return parameterVersion(id, p.name, await byName.get(p.name)!);
    if (p.kind === 'path') return pathVersion(id, p.path, await describeAll(ssm, pathFilter(p.path), ctx));
    return { ok: false, error: 'not a parameter id (ssm:NAME or ssm:/PATH/)' };
  });
}

/** A parameter's version from what its call saw. */
function parameterVersion(id: string, name: string, seen: Observation<Seen[]>): Observation<SecretVersion> {
  if (!seen.ok) return seen;
  const p = seen.value.find((s) => s.name === name);
  if (!p || p.version === undefined) return { ok: false, error: 'ParameterNotFound (no such parameter)' };
  return {
    ok: true,
    value: { arn: id, currentVersionId: versionLine(p), ...(p.changedAt !== undefined && { changedAt: p.changedAt }) },
  };
}

/** A path's version: a digest over what is under it, and its latest change. */
function pathVersion(id: string, path: string, seen: Observation<Seen[]>): Observation<SecretVersion> {
  if (!seen.ok) return seen;
  const under = seen.value.filter((p) => p.name.startsWith(path));
  const lines = under.map((p) => `${p.name}=${versionLine(p)}`).sort(byCodeUnit);
  const changed = under.flatMap((p) => (p.changedAt === undefined ? [] : [p.changedAt]));
  return {
    ok: true,
    value: {
      arn: id,
      currentVersionId: `sha256:${createHash('sha256').update(lines.join('\n')).digest('hex')}`,
      ...(changed.length > 0 && { changedAt: Math.max(...changed) }),
    },
  };
}

/** Every parameter under a path, recursively; sent without the final `/`, as SSM spells a path. */
function pathFilter(path: string): ParameterStringFilter {
  return { Key: 'Path', Option: 'Recursive', Values: [path.slice(0, -1)] };
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
