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
 * nothing here reads a secret. Returns the failing lines: a binding that is unusable (exit 2; the watcher would skip
 * that service), a cluster or service that cannot be read (exit 3).
 */
export async function checkClusters(
  ecs: EcsPort,
  clusters: readonly string[],
  out: (line: string) => void,
  options: { readonly timeoutMs: number; readonly concurrency: number },
): Promise<ClusterFailure[]> {
  const ctx = createCallContext({ signal: AbortSignal.timeout(options.timeoutMs), concurrency: options.concurrency });
  const failures: ClusterFailure[] = [];
  for (const cluster of clusters) {
    const listed = await listServiceArns(ecs, cluster, ctx);
    if (!listed.ok) {
      const line = `cluster ${cluster}: listing services: ${listed.error}`;
      out(line);
      failures.push({ code: ExitCode.source, line });
      continue;
    }
    const described = await describeServices(ecs, cluster, listed.value, ctx);
    const lines: { name: string; text: string[]; failure?: ClusterFailure }[] = [];
    let bound = 0;
    for (const [arn, seen] of described) {
      const name = serviceName(arn);
      if (!seen.ok) {
        const line = `service ${name}: ${seen.error}`;
        lines.push({ name, text: [line], failure: { code: ExitCode.source, line } });
        continue;
      }
      const binding = bindingFromTags(seen.value);
      if (!binding) continue;
      bound++;
      if (binding.ok) {
        const ids = binding.binding.secretIds;
        const line = `service ${name}: ${ids.length === 0 ? 'binds no secret' : `binds ${ids.length}: ${ids.join(' ')}`}`;
        lines.push({ name, text: [line], ...(ids.length === 0 && { failure: { code: ExitCode.usage, line } }) });
      } else {
        const line = `service ${name}: binding unusable`;
        const text = [line, ...binding.problems.map((p) => `  problem: ${p}`)];
        lines.push({ name, text, failure: { code: ExitCode.usage, line } });
      }
    }
    out(`cluster ${cluster}: ${listed.value.length} services, ${bound} bound by tags`);
    for (const l of lines.sort((a, b) => byCodeUnit(a.name, b.name))) {
      for (const t of l.text) out(t);
      if (l.failure) failures.push(l.failure);
    }
  }
  return failures;
}

/** A line of the report that fails the check, and the exit code it stands for. */
export interface ClusterFailure {
  readonly code: number;
  readonly line: string;
}
