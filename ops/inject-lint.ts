import { ENTRYPOINT, INIT_CONTAINER, SECRETS_DIR, SECRETS_VOLUME } from '../shared/contract.ts';
import { isObj, type Obj } from '../shared/json.ts';
import { looksSecret } from './inject-contract.ts';

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const objects = (v: unknown): Obj[] => list(v).filter(isObj);

export interface LintOptions {
  /** Keys the secret holds (`spec.required`): any of them in plain `environment` is a leak. */
  readonly requiredKeys?: readonly string[];
  /** Variable names accepted in `environment` although they look like secrets. */
  readonly allowEnv?: readonly string[];
  /** How a container is named in problems (default `containerDefinitions[i] "name"`, i in `td`). */
  readonly label?: (index: number, name: string) => string;
}

/** The environment entry `name` of a container, if any. */
export function envValue(container: Obj, name: string): string | undefined {
  const e = objects(container.environment).find((x) => x.name === name);
  return typeof e?.value === 'string' ? e.value : undefined;
}

/**
 * Structural checks of a task definition (register-task-definition input) wired for secrets-init: the init
 * container exists and is not essential, every container mounting the secrets volume waits for it with SUCCESS,
 * mounts it read-only and does not bypass the entrypoint (an `entryPoint` of its own starts with it; without one
 * the image's ENTRYPOINT runs, which must be it), every mount names a defined volume, and no plain
 * `environment` entry looks like a secret. Returns every problem found (names, never values).
 */
export function lintTaskDefinition(td: unknown, options: LintOptions = {}): string[] {
  const problems: string[] = [];
  if (!isObj(td)) return ['task definition: must be a JSON object'];
  const containers = objects(td.containerDefinitions);
  if (containers.length === 0) return ['containerDefinitions: must list at least one container'];
  const names = containers.map((c) => (typeof c.name === 'string' ? c.name : ''));
  const label = (i: number) =>
    options.label ? options.label(i, names[i]!) : `containerDefinitions[${i}] "${names[i]}"`;
  names.forEach((n, i) => {
    if (n === '') problems.push(`containerDefinitions[${i}]: has no name`);
    else if (names.indexOf(n) !== i) problems.push(`${label(i)}: name used twice`);
  });

  const volumes = objects(td.volumes);
  const volumeNames = new Set(volumes.map((v) => v.name).filter((n): n is string => typeof n === 'string'));
  const secretsVolume = volumes.find((v) => v.name === SECRETS_VOLUME);
  if (!secretsVolume) problems.push(`volumes: no volume "${SECRETS_VOLUME}"`);
  else if (isObj(secretsVolume.host) && secretsVolume.host.sourcePath !== undefined) {
    problems.push(`volumes "${SECRETS_VOLUME}": has a host path; secrets must stay on task storage`);
  }

  containers.forEach((c, i) => {
    objects(c.mountPoints).forEach((m, j) => {
      if (typeof m.sourceVolume !== 'string' || !volumeNames.has(m.sourceVolume)) {
        problems.push(`${label(i)}.mountPoints[${j}]: volume "${String(m.sourceVolume)}" is not defined in volumes`);
      }
    });
    objects(c.dependsOn).forEach((d, j) => {
      if (typeof d.containerName !== 'string' || !names.includes(d.containerName)) {
        problems.push(`${label(i)}.dependsOn[${j}]: container "${String(d.containerName)}" does not exist`);
      } else if (d.containerName === names[i]) problems.push(`${label(i)}.dependsOn[${j}]: depends on itself`);
    });
    objects(c.environment).forEach((e, j) => {
      const name = typeof e.name === 'string' ? e.name : '';
      if (looksSecret(name, options.requiredKeys) && !(options.allowEnv ?? []).includes(name)) {
        problems.push(
          `${label(i)}.environment[${j}]: "${name}" looks like a secret in plain environment; keep it in the secret`,
        );
      }
    });
  });

  const initIndex = names.indexOf(INIT_CONTAINER);
  const init = containers[initIndex];
  if (!init) {
    problems.push(`containerDefinitions: no init container "${INIT_CONTAINER}"`);
  } else {
    const at = label(initIndex);
    if (init.essential !== false) problems.push(`${at}: must be "essential": false (it exits once rendered)`);
    const mount = objects(init.mountPoints).find((m) => m.containerPath === SECRETS_DIR);
    if (mount?.sourceVolume !== SECRETS_VOLUME) {
      problems.push(`${at}: must mount volume "${SECRETS_VOLUME}" at ${SECRETS_DIR}`);
    } else if (mount.readOnly === true) problems.push(`${at}: mounts ${SECRETS_DIR} read-only but writes it`);
    if (envValue(init, 'SECRET_NAME') === undefined && envValue(init, 'SECRETS_CONFIG') === undefined) {
      problems.push(`${at}: environment names no secret (SECRET_NAME or SECRETS_CONFIG)`);
    }
    if (envValue(init, 'APP_ENV') === undefined) problems.push(`${at}: environment has no APP_ENV`);
    if (list(init.secrets).length > 0) problems.push(`${at}: must not take ECS "secrets"; it reads them itself`);
  }

  if (!containers.some((c) => c.essential !== false)) problems.push('containerDefinitions: no essential container');
  const apps = containers
    .map((c, i) => ({ c, i }))
    .filter(
      ({ c }) => c.name !== INIT_CONTAINER && objects(c.mountPoints).some((m) => m.sourceVolume === SECRETS_VOLUME),
    );
  if (init && apps.length === 0) problems.push(`containerDefinitions: no container mounts "${SECRETS_VOLUME}"`);
  for (const { c, i } of apps) {
    const at = label(i);
    const dep = objects(c.dependsOn).find((d) => d.containerName === INIT_CONTAINER);
    if (!dep) problems.push(`${at}: mounts the secrets but has no dependsOn "${INIT_CONTAINER}" SUCCESS`);
    else if (dep.condition !== 'SUCCESS') {
      problems.push(`${at}: dependsOn "${INIT_CONTAINER}" must have condition SUCCESS, not ${String(dep.condition)}`);
    }
    for (const m of objects(c.mountPoints).filter((m) => m.sourceVolume === SECRETS_VOLUME)) {
      if (m.readOnly !== true) problems.push(`${at}: must mount volume "${SECRETS_VOLUME}" read-only`);
      if (m.containerPath !== SECRETS_DIR) problems.push(`${at}: must mount "${SECRETS_VOLUME}" at ${SECRETS_DIR}`);
    }
    // No entryPoint: the image's ENTRYPOINT runs, which must be the secrets entrypoint (not visible from here).
    const entry = list(c.entryPoint);
    if (entry.length > 0 && entry[0] !== ENTRYPOINT) {
      problems.push(`${at}: entryPoint replaces the image's and must start with ${ENTRYPOINT}`);
    }
  }
  return problems;
}
