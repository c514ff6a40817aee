import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { buildPolicies } from '../ops/policy.ts';
import { formatJson, policyFiles } from '../ops/policy-files.ts';
import { policyInput } from '../ops/policy-input.ts';
import { OutputError, UsageError } from '../shared/errors.ts';
import { regionFromEnv } from '../shared/region.ts';
import { CONFIG_COMMAND_OPTIONS, configCommand } from './command-line.ts';
import type { Command } from './io.ts';

export const POLICY_USAGE = `Usage: secrets-init policy --config FILE --account ID [--region REGION] [OPTIONS]

Prints the least-privilege IAM policies for a config: one JSON document mapping each iam/ file name to its
policy, or, with --out DIR, one file per policy (the committed iam/*.json are this output for
examples/secrets-init.yaml, account 123456789012, region us-east-1). No AWS call is made.

Options:
  --config FILE       the YAML config                                  (env SECRETS_CONFIG)
  --account ID        12-digit account of the roles, tasks and secrets (env AWS_ACCOUNT_ID)
  --region REGION     region of the secrets and tasks                  (env AWS_REGION, else
                                                                       AWS_DEFAULT_REGION)
  --prefix NAME       prefix of role, task family, log group, schedule and rule names
                      (default: the config's metadata.name)
  --secret ID         another secret the app task reads (repeatable)
  --cluster NAME      another cluster whose services the watcher redeploys (repeatable)
  --state-key ID      the secret the watcher signs its state with (default: the config's
                      spec.watch.stateKey); the watcher role may read its value
  --repository NAME   ECR repository the execution role pulls from (repeatable;
                      default: secrets-init and the prefix)
  --log-group NAME    log group of the tasks (default: /ecs/PREFIX)
  --out DIR           write DIR/<name>.json for each policy instead of printing
  -h, --help          this text

Files: secrets-read-policy.json (app task role: its secrets, SSM parameters and paths), ecs-task-trust-policy.json
(trust of the task, watcher and execution roles), execution-role-policy.json, and with clusters to watch:
watcher-policy.json (watcher task role), scheduler-policy.json and scheduler-trust-policy.json (the role the
schedule and the rotation rule assume).
`;

const OPTIONS = {
  ...CONFIG_COMMAND_OPTIONS,
  account: { type: 'string' },
  region: { type: 'string' },
  prefix: { type: 'string' },
  secret: { type: 'string', multiple: true },
  cluster: { type: 'string', multiple: true },
  'state-key': { type: 'string' },
  repository: { type: 'string', multiple: true },
  'log-group': { type: 'string' },
  out: { type: 'string' },
} as const;

/** `secrets-init policy`: reads the config, prints or writes the policies. */
export const policyCommand: Command = configCommand(
  { name: 'policy', usage: POLICY_USAGE, options: OPTIONS },
  async ({ values, config }, io) => {
    if (!config) throw new UsageError('--config FILE is required (or SECRETS_CONFIG)');
    const account = values.account ?? nonEmpty(io.env.AWS_ACCOUNT_ID);
    if (!account) throw new UsageError('--account ID is required (or AWS_ACCOUNT_ID)');
    const region = values.region ?? regionFromEnv(io.env)?.region;
    if (!region) throw new UsageError('--region REGION is required (or AWS_REGION, AWS_DEFAULT_REGION)');

    const set = buildPolicies(
      policyInput(config, {
        location: { account, region },
        prefix: values.prefix,
        logGroup: values['log-group'],
        repositories: values.repository,
        secrets: values.secret,
        clusters: values.cluster,
        stateKey: values['state-key'],
      }),
    );
    if (!('watcher-policy.json' in set)) {
      io.stderr.write(
        'secrets-init policy: no clusters to watch (spec.watch or --cluster): watcher policies left out\n',
      );
    }
    if (values.out === undefined) {
      io.stdout.write(`${formatJson(set)}\n`);
      return 0;
    }
    const dir = isAbsolute(values.out) ? values.out : resolve(io.cwd, values.out);
    for (const [name, text] of Object.entries(policyFiles(set))) {
      const file = join(dir, name);
      try {
        await mkdir(dir, { recursive: true });
        const old = await readFile(file, 'utf8').catch(() => undefined);
        if (old !== text) await writeFile(file, text);
      } catch (err) {
        throw new OutputError(`writing "${file}": ${(err as NodeJS.ErrnoException).code ?? 'failed'}`, { cause: err });
      }
      io.stdout.write(`${file}\n`);
    }
    return 0;
  },
);

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}
