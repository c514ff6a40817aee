import {
  ENTRYPOINT,
  FILE_MODE,
  formatMode,
  INIT_CONTAINER,
  INIT_USER,
  SECRETS_DIR,
  SECRETS_VOLUME,
} from '../shared/contract.ts';
import { UsageError } from '../shared/errors.ts';
import { isObj, type Obj } from '../shared/json.ts';
import { INIT_COMMAND, INIT_MEMORY_MIB } from './inject-contract.ts';
import { envValue, lintTaskDefinition } from './inject-lint.ts';

const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** What the operator chooses; everything else is the contract in inject-contract.ts. */
export interface InjectOptions {
  /** Init container image; required unless the input already has the init container. */
  readonly image?: string;
  /** Secret names or ARNs (SECRET_NAME); required unless the init container already names them. */
  readonly secretNames?: readonly string[];
  /** AWS_REGION of the init container; required unless it already has one. */
  readonly region?: string;
  /** Keys that must be present (SECRETS_REQUIRED, set on the init and the app containers). */
  readonly required?: readonly string[];
  /** App containers to wire; default: those already wired, else the only essential container. */
  readonly containers?: readonly string[];
  /** `user` of the init container (`uid:gid`); default the contract's, whose group the app shares. */
  readonly initUser?: string;
  /** SECRETS_FILE_MODE of the init container (octal text); default the contract's. */
  readonly fileMode?: string;
  /** Names accepted in plain `environment` although they look like secrets. */
  readonly allowEnv?: readonly string[];
  /**
   * Put the entrypoint in front of each app container's `entryPoint` (for images that hold the script but do not
   * run it as their ENTRYPOINT). Default: the command is left alone and the image's ENTRYPOINT runs the script.
   */
  readonly wrapEntrypoint?: boolean;
}

export interface InjectResult {
  /** The register-task-definition input with secrets-init wired in. */
  readonly taskDefinition: Obj;
  /** The app containers wired. */
  readonly wired: readonly string[];
  /** Things the operator should know (never values). */
  readonly notes: readonly string[];
}

/**
 * Wires the init container into a task definition (a register-task-definition input): the `secrets` volume, the
 * init container (not essential, writes the volume), and for each app container a read-only mount and `dependsOn
 * SUCCESS`; its command is left alone (the image's ENTRYPOINT is the secrets entrypoint), or with
 * `wrapEntrypoint` the entrypoint goes in front of its own. Pure; idempotent (`inject(inject(x)) = inject(x)`); fields it
 * does not own are kept as they are and where they are. Input it cannot wire safely is refused with a UsageError.
 */
export function injectInitContainer(input: Obj, options: InjectOptions = {}): InjectResult {
  const td = structuredClone(input);
  const notes: string[] = [];
  const containers = checkContainers(td);
  const os = isObj(td.runtimePlatform) ? td.runtimePlatform.operatingSystemFamily : undefined;
  if (typeof os === 'string' && os.startsWith('WINDOWS')) {
    throw new UsageError(`runtimePlatform ${os}: the entrypoint is POSIX sh; Windows tasks are not supported`);
  }
  checkOptions(options);

  wireVolume(td);
  const existing = containers.find((c) => c.name === INIT_CONTAINER);
  if (existing && !mountsSecrets(existing)) {
    throw new UsageError(
      `container "${INIT_CONTAINER}" exists but is not a secrets-init container (it does not mount volume ` +
        `"${SECRETS_VOLUME}" at ${SECRETS_DIR}); rename it`,
    );
  }
  const apps = chooseApps(containers, options);
  for (const app of apps) wireApp(app, options, notes);
  const init = existing ?? { name: INIT_CONTAINER };
  buildInit(init, td, apps, options);
  if (!existing) td.containerDefinitions = [init, ...containers];

  const requiredKeys = options.required ?? [];
  // Problems name containers as the input has them: an added init container shifts every index by one.
  const shift = existing ? 0 : 1;
  const label = (i: number, name: string) =>
    i < shift ? `container "${name}" (added by inject)` : `containerDefinitions[${i - shift}] "${name}"`;
  const problems = lintTaskDefinition(td, { requiredKeys, allowEnv: options.allowEnv ?? [], label });
  if (problems.length > 0) {
    const hint = problems.some((p) => p.includes('looks like a secret'))
      ? '\n  (a name that only looks like a secret can be accepted with --allow-env NAME)'
      : '';
    throw new UsageError(`cannot wire this task definition:\n  ${problems.join('\n  ')}${hint}`);
  }
  return { taskDefinition: td, wired: apps.map((a) => a.name as string), notes };
}

function checkContainers(td: Obj): Obj[] {
  if (!Array.isArray(td.containerDefinitions) || td.containerDefinitions.length === 0) {
    throw new UsageError('containerDefinitions: must list at least one container');
  }
  const seen = new Set<string>();
  td.containerDefinitions.forEach((c, i) => {
    if (!isObj(c) || typeof c.name !== 'string' || c.name === '') {
      throw new UsageError(`containerDefinitions[${i}]: must be an object with a name`);
    }
    if (seen.has(c.name)) throw new UsageError(`containerDefinitions: name "${c.name}" is used twice`);
    seen.add(c.name);
  });
  return td.containerDefinitions as Obj[];
}

function checkOptions(o: InjectOptions): void {
  if (o.image !== undefined && !/^\S+$/.test(o.image)) throw new UsageError(`image "${o.image}" is not an image`);
  if (o.initUser !== undefined && !/^\d+(:\d+)?$/.test(o.initUser)) {
    throw new UsageError(`init user "${o.initUser}" must be numeric uid:gid (the init image has no user database)`);
  }
  if (o.fileMode !== undefined && !/^0?[0-7][0-7]0$/.test(o.fileMode)) {
    throw new UsageError(`file mode "${o.fileMode}" must be octal with no access for others, such as 0440`);
  }
  for (const k of o.required ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new UsageError(`required key "${k}" is not a variable name`);
  }
  for (const s of o.secretNames ?? []) {
    if (s === '' || /[\s,]/.test(s)) throw new UsageError(`secret name "${s}" is empty or holds a comma or space`);
  }
}

function wireVolume(td: Obj): void {
  if (td.volumes !== undefined && !Array.isArray(td.volumes)) throw new UsageError('volumes: must be a list');
  const volumes = (td.volumes ?? []) as unknown[];
  const found = volumes.find((v) => isObj(v) && v.name === SECRETS_VOLUME);
  if (found === undefined) {
    td.volumes = [...volumes, { name: SECRETS_VOLUME }];
    return;
  }
  const v = found as Obj;
  const hostPath = isObj(v.host) ? v.host.sourcePath : undefined;
  const kind = [
    hostPath !== undefined && 'a host path',
    v.dockerVolumeConfiguration !== undefined && 'dockerVolumeConfiguration',
    v.efsVolumeConfiguration !== undefined && 'EFS',
    v.fsxWindowsFileServerVolumeConfiguration !== undefined && 'FSx',
    v.configuredAtLaunch === true && 'configuredAtLaunch',
  ].find(Boolean);
  if (kind) {
    throw new UsageError(
      `volume "${SECRETS_VOLUME}" exists with ${kind}; secrets-init needs it on task storage (no host, no ` +
        'configuration) so it is deleted with the task',
    );
  }
}

function mountsSecrets(c: Obj): boolean {
  return objects(c.mountPoints).some((m) => m.sourceVolume === SECRETS_VOLUME && m.containerPath === SECRETS_DIR);
}

function isWired(c: Obj): boolean {
  return (
    objects(c.dependsOn).some((d) => d.containerName === INIT_CONTAINER) ||
    (Array.isArray(c.entryPoint) && c.entryPoint[0] === ENTRYPOINT)
  );
}

function chooseApps(containers: Obj[], options: InjectOptions): Obj[] {
  const others = containers.filter((c) => c.name !== INIT_CONTAINER);
  const byName = (n: string): Obj => {
    if (n === INIT_CONTAINER) throw new UsageError(`--container "${n}": that is the init container`);
    const c = others.find((x) => x.name === n);
    if (!c) {
      throw new UsageError(`--container "${n}": no such container (have: ${others.map((x) => x.name).join(', ')})`);
    }
    return c;
  };
  const chosen = new Set<Obj>((options.containers ?? []).map(byName));
  for (const c of others) if (isWired(c)) chosen.add(c);
  if (chosen.size > 0) return others.filter((c) => chosen.has(c));
  // Sidecars (log routers, proxies) run images without the entrypoint: never guess among several.
  const candidates = others.filter((c) => c.essential !== false && c.firelensConfiguration === undefined);
  if (candidates.length === 1) return candidates;
  if (candidates.length === 0) throw new UsageError('no essential app container to wire; name one with --container');
  throw new UsageError(
    `several app containers (${candidates.map((c) => c.name).join(', ')}): name the ones that read the secrets with --container`,
  );
}

function wireApp(app: Obj, options: InjectOptions, notes: string[]): void {
  const at = `container "${app.name}"`;
  wireEntrypoint(app, at, options, notes);

  if (app.mountPoints !== undefined && !Array.isArray(app.mountPoints)) {
    throw new UsageError(`${at}: mountPoints must be a list`);
  }
  const mounts = (app.mountPoints ?? []) as Obj[];
  const atDir = mounts.find((m) => isObj(m) && m.containerPath === SECRETS_DIR);
  const elsewhere = mounts.find(
    (m) => isObj(m) && m.sourceVolume === SECRETS_VOLUME && m.containerPath !== SECRETS_DIR,
  );
  if (atDir && atDir.sourceVolume !== SECRETS_VOLUME) {
    throw new UsageError(`${at}: ${SECRETS_DIR} is already mounted from volume "${String(atDir.sourceVolume)}"`);
  }
  if (elsewhere) {
    throw new UsageError(
      `${at}: mounts volume "${SECRETS_VOLUME}" at ${String(elsewhere.containerPath)}, not ${SECRETS_DIR}`,
    );
  }
  if (atDir) atDir.readOnly = true;
  else app.mountPoints = [...mounts, { sourceVolume: SECRETS_VOLUME, containerPath: SECRETS_DIR, readOnly: true }];

  if (app.dependsOn !== undefined && !Array.isArray(app.dependsOn))
    throw new UsageError(`${at}: dependsOn must be a list`);
  const deps = (app.dependsOn ?? []) as Obj[];
  const dep = deps.find((d) => isObj(d) && d.containerName === INIT_CONTAINER);
  if (dep) dep.condition = 'SUCCESS';
  else app.dependsOn = [...deps, { containerName: INIT_CONTAINER, condition: 'SUCCESS' }];

  const dir = envValue(app, 'SECRETS_DIR');
  if (dir !== undefined && dir !== SECRETS_DIR) {
    throw new UsageError(`${at}: SECRETS_DIR is "${dir}" but the secrets are mounted at ${SECRETS_DIR}`);
  }
  if (options.required) setEnv(app, at, 'SECRETS_REQUIRED', options.required.join(','));
  const valueFrom = objects(app.secrets).length;
  if (valueFrom > 0) {
    notes.push(`${at}: still takes ${valueFrom} value(s) from ECS "secrets"; the init container can replace them`);
  }
  const initGid = (options.initUser ?? INIT_USER).split(':')[1];
  if (initGid !== undefined && typeof app.user !== 'string') {
    notes.push(
      `${at}: no "user" set; the image's user must be in group ${initGid} (set "user": "<uid>:${initGid}"), ` +
        'the rendered files are readable by that group only',
    );
  } else if (initGid !== undefined && typeof app.user === 'string' && app.user.split(':')[1] !== initGid) {
    notes.push(
      `${at}: user "${app.user}" is not in group ${initGid}; the rendered files are readable by that group only`,
    );
  }
}

/**
 * The secrets entrypoint must run first in each app container. An image built as README says has it as its
 * ENTRYPOINT, so a container that does not override `entryPoint` needs nothing (ECS's `command` replaces only the
 * image's CMD). A container that overrides `entryPoint` bypasses it: that needs the explicit wrap.
 */
function wireEntrypoint(app: Obj, at: string, options: InjectOptions, notes: string[]): void {
  const raw = app.entryPoint;
  if (raw !== undefined && !(Array.isArray(raw) && raw.every((e) => typeof e === 'string'))) {
    throw new UsageError(`${at}: entryPoint must be a list of strings`);
  }
  // An empty list overrides nothing: Docker and ECS then run the image's ENTRYPOINT.
  const entry = raw !== undefined && raw.length > 0 ? (raw as string[]) : undefined;
  if (entry?.[0] === ENTRYPOINT) return;
  if (!options.wrapEntrypoint) {
    if (entry !== undefined) {
      throw new UsageError(
        `${at}: its entryPoint ("${entry[0]}") replaces the image's ENTRYPOINT, so ${ENTRYPOINT} would not run; ` +
          'put it in front with --wrap-entrypoint (the image must contain it)',
      );
    }
    notes.push(
      `${at}: command left as it is; the image's ENTRYPOINT must be ${ENTRYPOINT} (README: "Adding it to your ` +
        'own image"); for an image that only contains the script, --wrap-entrypoint puts it in front',
    );
    return;
  }
  if (entry === undefined && app.command === undefined) {
    throw new UsageError(
      `${at}: has neither entryPoint nor command; --wrap-entrypoint replaces the image's ENTRYPOINT and CMD, so ` +
        'write the app\'s command into the task definition ("command": [...]), or leave the image\'s ENTRYPOINT ' +
        'to run the script (no --wrap-entrypoint)',
    );
  }
  if (entry === undefined) {
    notes.push(
      `${at}: entryPoint set to ${ENTRYPOINT}; the image's own ENTRYPOINT, if it has one, no longer runs: ` +
        'put it in front of command',
    );
  }
  app.entryPoint = [ENTRYPOINT, ...(entry ?? [])];
}

function buildInit(init: Obj, td: Obj, apps: Obj[], options: InjectOptions): void {
  const at = `container "${INIT_CONTAINER}"`;
  const image = options.image ?? init.image;
  if (typeof image !== 'string' || image === '') throw new UsageError('--image is required: the init container image');
  init.image = image;
  init.essential = false;
  init.command ??= [...INIT_COMMAND];
  if (options.initUser !== undefined || init.user === undefined) init.user = options.initUser ?? INIT_USER;
  init.readonlyRootFilesystem ??= true;

  const secretName = options.secretNames?.join(',') ?? envValue(init, 'SECRET_NAME');
  if (secretName === undefined && envValue(init, 'SECRETS_CONFIG') === undefined) {
    throw new UsageError('--secret-name is required: the secret(s) the init container renders');
  }
  const region = options.region ?? envValue(init, 'AWS_REGION');
  if (region === undefined) throw new UsageError('--region is required (or AWS_REGION): the region of the secrets');
  if (init.environment !== undefined && !Array.isArray(init.environment)) {
    throw new UsageError(`${at}: environment must be a list`);
  }
  setEnv(init, at, 'APP_ENV', envValue(init, 'APP_ENV') ?? 'production');
  setEnv(init, at, 'AWS_REGION', region);
  if (secretName !== undefined) setEnv(init, at, 'SECRET_NAME', secretName);
  setEnv(init, at, 'SECRETS_DIR', SECRETS_DIR);
  setEnv(
    init,
    at,
    'SECRETS_FILE_MODE',
    options.fileMode ?? envValue(init, 'SECRETS_FILE_MODE') ?? formatMode(FILE_MODE),
  );
  if (options.required) setEnv(init, at, 'SECRETS_REQUIRED', options.required.join(','));

  const mounts = objects(init.mountPoints);
  const mount = mounts.find((m) => m.sourceVolume === SECRETS_VOLUME && m.containerPath === SECRETS_DIR);
  if (mount) mount.readOnly = false;
  else init.mountPoints = [...mounts, { sourceVolume: SECRETS_VOLUME, containerPath: SECRETS_DIR, readOnly: false }];

  if (init.logConfiguration === undefined) {
    const logged = apps.find((a) => isObj(a.logConfiguration));
    if (logged) init.logConfiguration = structuredClone(logged.logConfiguration);
  }
  // EC2 task definitions without task-level memory need a memory setting on every container; a hard limit
  // (rather than only a reservation) is what every validator accepts, and render needs well under it.
  if (td.memory === undefined && init.memory === undefined && init.memoryReservation === undefined) {
    init.memory = INIT_MEMORY_MIB;
  }
  if (objects(init.dependsOn).some((d) => apps.some((a) => a.name === d.containerName))) {
    throw new UsageError(`${at}: depends on an app container that waits for it (a cycle)`);
  }
}

/** Sets one environment entry in place, or appends it; values are ours, so an entry is never a secret. */
function setEnv(c: Obj, at: string, name: string, value: string): void {
  if (c.environment !== undefined && !Array.isArray(c.environment))
    throw new UsageError(`${at}: environment must be a list`);
  const env = (c.environment ?? []) as Obj[];
  const e = env.find((x) => isObj(x) && x.name === name);
  if (e) e.value = value;
  else c.environment = [...env, { name, value }];
}
