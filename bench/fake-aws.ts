import type { EcsPort, SecretsPort } from '../shared/aws-ports.ts';

/**
 * An in-memory ECS + Secrets Manager for the watcher's latency model: it answers the five calls a pass makes after
 * a fixed delay, so a pass's wall time can be measured at a chosen API latency without moto's own limit
 * (~250 calls/s) in the way. Answers have the SDK's output shapes; nothing else is modelled.
 */
export interface FakeAws {
  readonly ecs: EcsPort;
  readonly secrets: SecretsPort;
  /** Calls answered, by action. */
  counts(): Record<string, number>;
  /** The most calls that were waiting for an answer at once. */
  maxInFlight(): number;
}

export function fakeAws(options: {
  readonly cluster: string;
  /** service name -> secret names it uses. */
  readonly bindings: ReadonlyMap<string, readonly string[]>;
  readonly latencyMs: number;
}): FakeAws {
  const region = 'us-east-1';
  const account = '123456789012';
  const serviceArn = (name: string) => `arn:aws:ecs:${region}:${account}:service/${options.cluster}/${name}`;
  const tags = new Map<string, Map<string, string>>();
  for (const [name, secrets] of options.bindings) {
    tags.set(serviceArn(name), new Map([['secrets-init/secrets', secrets.join(' ')]]));
  }
  const names = [...options.bindings.keys()];
  const counts: Record<string, number> = {};
  let inFlight = 0;
  let maxInFlight = 0;

  const answer = (action: string, input: Record<string, unknown>): unknown => {
    switch (action) {
      case 'ListServices': {
        const start = Number(input.nextToken ?? 0);
        const end = Math.min(names.length, start + Number(input.maxResults ?? 10));
        return {
          serviceArns: names.slice(start, end).map(serviceArn),
          ...(end < names.length && { nextToken: String(end) }),
        };
      }
      case 'DescribeServices':
        return {
          services: (input.services as string[]).map((arn) => ({
            serviceArn: arn,
            serviceName: arn.slice(arn.lastIndexOf('/') + 1),
            status: 'ACTIVE',
            tags: [...(tags.get(arn) ?? new Map())].map(([key, value]) => ({ key, value })),
          })),
          failures: [],
        };
      case 'DescribeSecret': {
        const id = String(input.SecretId);
        return {
          ARN: `arn:aws:secretsmanager:${region}:${account}:secret:${id}-AbCdEf`,
          Name: id,
          VersionIdsToStages: { [`${id}-v1`]: ['AWSCURRENT'] },
        };
      }
      case 'TagResource': {
        const t = tags.get(String(input.resourceArn)) ?? new Map<string, string>();
        for (const { key, value } of input.tags as { key: string; value: string }[]) t.set(key, value);
        tags.set(String(input.resourceArn), t);
        return {};
      }
      case 'UpdateService':
        return { service: { serviceArn: serviceArn(String(input.service)) } };
      default:
        throw new Error(`fake AWS: ${action} is not modelled`);
    }
  };

  const send = async (command: unknown, opts?: { abortSignal?: AbortSignal }): Promise<unknown> => {
    const action = (command as object).constructor.name.replace(/Command$/, '');
    counts[action] = (counts[action] ?? 0) + 1;
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    try {
      if (options.latencyMs > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, options.latencyMs);
          opts?.abortSignal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
          });
        });
      }
      return answer(action, (command as { input: Record<string, unknown> }).input);
    } finally {
      inFlight--;
    }
  };
  return {
    ecs: { send } as unknown as EcsPort,
    secrets: { send } as unknown as SecretsPort,
    counts: () => ({ ...counts }),
    maxInFlight: () => maxInFlight,
  };
}
