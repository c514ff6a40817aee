import type { EcsPort } from '../shared/aws-ports.ts';
import { ExitCode } from '../shared/errors.ts';
import { bindingFromTags } from '../watcher/bindings.ts';
import { createCallContext } from '../watcher/call-context.ts';
import { describeServices } from '../watcher/describe-services.ts';
import { serviceName } from '../watcher/ecs-identity.ts';
import { byCodeUnit } from '../watcher/fingerprint.ts';
import { listServiceArns } from '../watcher/list-services.ts';

/**
 * `check --cluster`: the bindings the watcher would discover, read exactly as it reads them (ListServices,
 * DescribeServices with tags), one line per bound service with its secret ids, then its problems. Ids only:
 * nothing here reads a secret. Exit 2 when a binding is unusable (the watcher would skip that service), 3 when
 * the cluster cannot be read.
 */
export async function checkClusters(
  ecs: EcsPort,
  clusters: readonly string[],
  out: (line: string) => void,
  options: { readonly timeoutMs: number; readonly concurrency: number },
): Promise<number> {
  const ctx = createCallContext({ signal: AbortSignal.timeout(options.timeoutMs), concurrency: options.concurrency });
  let worst: number = ExitCode.ok;
  for (const cluster of clusters) {
    const listed = await listServiceArns(ecs, cluster, ctx);
    if (!listed.ok) {
      out(`cluster ${cluster}: listing services: ${listed.error}`);
      worst = Math.max(worst, ExitCode.source);
      continue;
    }
    const described = await describeServices(ecs, cluster, listed.value, ctx);
    const lines: [string, string[]][] = [];
    let bound = 0;
    for (const [arn, seen] of described) {
      const name = serviceName(arn);
      if (!seen.ok) {
        lines.push([name, [`service ${name}: ${seen.error}`]]);
        worst = Math.max(worst, ExitCode.source);
        continue;
      }
      const binding = bindingFromTags(seen.value);
      if (!binding) continue;
      bound++;
      if (binding.ok) {
        const ids = binding.binding.secretIds;
        const what = ids.length === 0 ? 'binds no secret' : `binds ${ids.length}: ${ids.join(' ')}`;
        lines.push([name, [`service ${name}: ${what}`]]);
        if (ids.length === 0) worst = Math.max(worst, ExitCode.usage);
      } else {
        lines.push([name, [`service ${name}: binding unusable`, ...binding.problems.map((p) => `  problem: ${p}`)]]);
        worst = Math.max(worst, ExitCode.usage);
      }
    }
    out(`cluster ${cluster}: ${listed.value.length} services, ${bound} bound by tags`);
    for (const [, text] of lines.sort((a, b) => byCodeUnit(a[0], b[0]))) for (const l of text) out(l);
  }
  return worst;
}
