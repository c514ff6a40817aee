import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { type InjectOptions, injectInitContainer } from '../ops/inject.ts';
import { parseTaskDefinitionInput } from '../ops/inject-input.ts';
import { parseCommandArgs } from '../shared/args.ts';
import { INIT_USER } from '../shared/contract.ts';
import { UsageError } from '../shared/errors.ts';
import { regionFromEnv } from '../shared/region.ts';
import type { Command } from './io.ts';

export const INJECT_USAGE = `Usage: secrets-init inject [FILE|-] [OPTIONS]

Reads an ECS task definition from FILE or stdin (the output of "aws ecs describe-task-definition", or a
register-task-definition input) and prints it with secrets-init wired in: the "secrets" volume, the
"secrets-init" container (essential false, renders into /run/secrets), and in each app container a read-only
mount of /run/secrets and dependsOn secrets-init SUCCESS. The app's entryPoint and command are left alone: its
image runs /usr/local/bin/secrets-entrypoint as its ENTRYPOINT (or use --wrap-entrypoint). Every other field is
kept. Running it on its own output changes nothing. Register the result with
  aws ecs register-task-definition --cli-input-json file://task-definition.json

Options:
  --image IMAGE        init container image (required unless the input already has secrets-init)
  --secret-name IDS    secret names or ARNs to render, comma-separated or repeated   (env SECRET_NAME)
  --region REGION      AWS_REGION of the init container              (env AWS_REGION, else AWS_DEFAULT_REGION)
  --required KEYS      keys that must be present, comma-separated or repeated;
                       set as SECRETS_REQUIRED on the init and the app containers   (env SECRETS_REQUIRED)
  --container NAMES    app containers to wire, comma-separated or repeated (default: those already
                       wired, else the only essential container)
  --init-user UID:GID  user of the init container (default ${INIT_USER}; the app needs its group)
  --file-mode MODE     mode of the rendered files (default 0440)
  --allow-env NAMES    accept plain environment variables whose names look like secrets (comma-separated
                       or repeated)
  --wrap-entrypoint    put /usr/local/bin/secrets-entrypoint in front of each app container's entryPoint,
                       for images that contain the script but do not run it as their ENTRYPOINT (needed when
                       the task definition overrides entryPoint)
  -h, --help           this text

Notes (never values) go to stderr; the task definition JSON to stdout.
`;

/** `secrets-init inject`: task definition JSON in, the same with the init container wired in out. */
export const injectCommand: Command = async (args, io) => {
  const { values, positionals } = parseFlags(args);
  if (values.help) {
    io.stdout.write(INJECT_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`one input at a time (got ${positionals.length})`);
  const file = positionals[0] ?? '-';
  const text = file === '-' ? await readStdin(io.stdin) : await readInput(file, io.cwd);
  const source = file === '-' ? 'stdin' : `"${file}"`;
  const { taskDefinition } = parseTaskDefinitionInput(text, source);

  const secretNames = listFlag(values['secret-name']) ?? listEnv(io.env.SECRET_NAME);
  const required = listFlag(values.required) ?? listEnv(io.env.SECRETS_REQUIRED);
  const region = values.region ?? regionFromEnv(io.env)?.region;
  const options: InjectOptions = {
    ...(values.image !== undefined && { image: values.image }),
    ...(secretNames && { secretNames }),
    ...(region !== undefined && { region }),
    ...(required && { required }),
    ...(values.container && { containers: listFlag(values.container) }),
    ...(values['init-user'] !== undefined && { initUser: values['init-user'] }),
    ...(values['file-mode'] !== undefined && { fileMode: values['file-mode'] }),
    ...(values['allow-env'] && { allowEnv: listFlag(values['allow-env']) }),
    ...(values['wrap-entrypoint'] && { wrapEntrypoint: true }),
  };
  const result = injectInitContainer(taskDefinition, options);
  for (const note of result.notes) io.stderr.write(`secrets-init inject: note: ${note}\n`);
  io.stdout.write(`${JSON.stringify(result.taskDefinition, null, 2)}\n`);
  return 0;
};

const OPTIONS = {
  image: { type: 'string' },
  'secret-name': { type: 'string', multiple: true },
  region: { type: 'string' },
  required: { type: 'string', multiple: true },
  container: { type: 'string', multiple: true },
  'init-user': { type: 'string' },
  'file-mode': { type: 'string' },
  'allow-env': { type: 'string', multiple: true },
  'wrap-entrypoint': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseFlags(args: readonly string[]) {
  return parseCommandArgs('inject', args, OPTIONS, true);
}

/** `a,b` and repeated flags alike; undefined when the flag was not given. */
function listFlag(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function listEnv(v: string | undefined): string[] | undefined {
  const list = listFlag(v === undefined ? undefined : [v]);
  return list && list.length > 0 ? list : undefined;
}

async function readInput(file: string, cwd: string): Promise<string> {
  try {
    return await readFile(isAbsolute(file) ? file : resolve(cwd, file), 'utf8');
  } catch (err) {
    throw new UsageError(`reading "${file}": ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, { cause: err });
  }
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  if ((stdin as { isTTY?: boolean }).isTTY) {
    throw new UsageError('give a task definition FILE or pipe one into stdin (see --help)');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
