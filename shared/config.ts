import { parseBindingId } from './binding-id.ts';
import { FILE_NAME, PRODUCT, RESERVED_FILE_NAMES, VARIABLE_NAME } from './contract.ts';
import { type DurationRange, MAX_TIMER_MS, parseDuration } from './duration.ts';
import { isObj, type Obj } from './json.ts';
import { lastLevel, parseParameterPath, parseParameterRef } from './parameter-name.ts';
import { isShellOwned, shellVariable } from './shell-names.ts';

/**
 * The YAML config file (`--config` / `SECRETS_CONFIG`), read as `unknown` and validated once into a frozen,
 * fully-defaulted object. Every problem is reported with its path (`spec.sources[1].secretId: required`).
 */

export const CONFIG_API_VERSION = 'secrets-init/v1';
export const CONFIG_KIND = 'SecretsInit';

/** A Secrets Manager secret (a string in `spec.sources`, or an object with `secretId`). */
export interface SecretSourceSpec {
  readonly type: 'secretsmanager';
  /** Name or ARN of the secret. */
  readonly secretId: string;
  readonly versionStage?: string;
  readonly versionId?: string;
  /** Only these keys are taken from the secret (each must exist). */
  readonly keys?: readonly string[];
  /** Renames applied after `keys`: secret key -> variable name. */
  readonly rename?: Readonly<Record<string, string>>;
  /** Take the whole secret (string or binary) as this one key instead of parsing a JSON object. */
  readonly key?: string;
}

/** One SSM parameter (`parameter:` in `spec.sources`), read with GetParameters, decrypted. */
export interface ParameterSourceSpec {
  readonly type: 'ssm-parameter';
  /** As written: the name, optionally pinned with `:version` or `:label`. */
  readonly parameter: string;
  readonly name: string;
  readonly selector?: string;
  /** The variable it becomes: `key:`, else the name's last level. */
  readonly key: string;
}

/** Every parameter under a path (`parameterPath:`), recursively, decrypted: GetParametersByPath. */
export interface ParameterPathSourceSpec {
  readonly type: 'ssm-path';
  /** With its final `/`: `/short-cut/prod/`. */
  readonly path: string;
  /** Only these keys (as the path gives them: `db_url` for `/short-cut/prod/db/url`); each must exist. */
  readonly keys?: readonly string[];
  /** Renames applied after `keys`: key under the path -> variable name. */
  readonly rename?: Readonly<Record<string, string>>;
  /** An empty path is no error (it is exit 3 otherwise). */
  readonly optional: boolean;
}

/** A source in `spec.sources`, told apart by `type`; render merges them in order, later wins. */
export type SourceSpec = SecretSourceSpec | ParameterSourceSpec | ParameterPathSourceSpec;

/** The SSM Parameter Store kinds of source. */
export type SsmSourceSpec = ParameterSourceSpec | ParameterPathSourceSpec;

export function isSsmSource(s: SourceSpec): s is SsmSourceSpec {
  return s.type === 'ssm-parameter' || s.type === 'ssm-path';
}

export interface FileMapping {
  /** The merged key whose value becomes the file. */
  readonly fromKey: string;
  /** File name inside the output directory. */
  readonly path: string;
  /** File mode; defaults to the output mode. */
  readonly mode?: number;
  /** Variable in app.env that points at the file. */
  readonly envVar?: string;
}

export interface OwnerSpec {
  readonly uid: number;
  readonly gid: number;
}

export interface ServiceBinding {
  readonly name: string;
  /** Binding ids (shared/binding-id.ts): secret names or ARNs, `ssm:NAME` parameters, `ssm:/path/` paths. */
  readonly secrets: readonly string[];
}

export interface ClusterBinding {
  readonly name: string;
  readonly services: readonly ServiceBinding[];
}

export interface WatchSpec {
  readonly clusters: readonly ClusterBinding[];
  readonly intervalMs?: number;
  readonly maxRedeploys?: number;
  /** The window the redeploy cap counts over (default: the interval). */
  readonly capWindowMs?: number;
  /** The secret holding the key the watcher signs its state tags with. */
  readonly stateKey?: string;
}

export interface ConfigFile {
  readonly name: string;
  readonly sources: readonly SourceSpec[];
  readonly dotenvPath?: string;
  readonly files: readonly FileMapping[];
  readonly required: readonly string[];
  readonly allowKeys: readonly string[];
  readonly outputDir?: string;
  readonly fileMode?: number;
  readonly owner?: OwnerSpec;
  readonly timeoutMs?: number;
  readonly watch?: WatchSpec;
}

/** Collects problems as `path: message`. */
class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
}

function checkKnown(p: Problems, path: string, o: Obj, known: readonly string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) p.add(`${path}.${k}`, 'unknown field');
}

/**
 * A list of objects (`spec.watch.clusters`): each item must be an object with (at most) the `known` fields, and is
 * then given to `each` with its path (`spec.watch.clusters[1]`). Absent is an empty list unless `required`.
 */
function eachObject(
  p: Problems,
  path: string,
  v: unknown,
  rule: { readonly required: boolean; readonly known: readonly string[] },
  each: (o: Obj, path: string) => void,
): void {
  if (!Array.isArray(v)) {
    if (v !== undefined || rule.required) p.add(path, 'must be a list');
    return;
  }
  v.forEach((item, i) => {
    const ip = `${path}[${i}]`;
    if (!isObj(item)) p.add(ip, `must be an object with ${rule.known.join(' and ')}`);
    else {
      checkKnown(p, ip, item, rule.known);
      each(item, ip);
    }
  });
}

function str(p: Problems, path: string, v: unknown, required: boolean): string | undefined {
  if (v === undefined || v === null) {
    if (required) p.add(path, 'required');
    return undefined;
  }
  if (typeof v !== 'string' || v.trim() === '') {
    p.add(path, 'must be a non-empty string');
    return undefined;
  }
  return v;
}

function strList(p: Problems, path: string, v: unknown, pattern?: RegExp, what?: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    p.add(path, 'must be a list of strings');
    return [];
  }
  const out: string[] = [];
  v.forEach((item, i) => {
    const s = str(p, `${path}[${i}]`, item, true);
    if (s === undefined) return;
    if (pattern && !pattern.test(s)) p.add(`${path}[${i}]`, `"${s}" is not a valid ${what}`);
    else out.push(s);
  });
  return out;
}

/**
 * A name the config asks render to write (or to allow) that a supported shell owns can never work: said here,
 * before any secret is read, rather than as a refused key later.
 */
function notShellOwned(p: Problems, path: string, name: string): void {
  if (isShellOwned(name)) p.add(path, `"${name}" ${shellVariable(name)} and can never be a secret`);
}

/** A duration field: a string such as "30s" within `range` (default: what a timer holds). */
function duration(p: Problems, path: string, v: unknown, range?: DurationRange): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === 'string' ? parseDuration(v, range) : 'must be a duration such as "30s", "5m" or "1h"';
  if (typeof ms === 'string') p.add(path, ms);
  return typeof ms === 'number' ? ms : undefined;
}

/** Parses an octal mode (`"0440"`, `"440"` or the number 288) and refuses world access. */
export function parseMode(v: unknown): number | string {
  if (typeof v === 'number' && Number.isInteger(v)) {
    // YAML 1.2 reads an unquoted `mode: 0440` as the decimal 440 (= 0670): a number whose digits also make a
    // valid octal mode is refused, never silently taken as decimal. `0o440` (288) and "0440" are unambiguous.
    const octal = /^[0-7]{3}$/.test(String(v)) ? checkMode(Number.parseInt(String(v), 8)) : undefined;
    if (typeof octal === 'number' && octal !== v) {
      return `the number ${v} is ambiguous (YAML reads an unquoted 0${v} as decimal ${v}); quote it: "0${v}"`;
    }
    return checkMode(v);
  }
  if (typeof v === 'string' && /^0?[0-7]{3}$/.test(v.trim())) return checkMode(Number.parseInt(v.trim(), 8));
  return 'must be an octal mode such as "0440"';
}

function checkMode(n: number): number | string {
  if (n < 0 || n > 0o777) return 'must be an octal mode such as "0440"';
  if (n & 0o007)
    return `mode ${n.toString(8).padStart(4, '0')} gives access to others; secrets are never world-accessible`;
  if (!(n & 0o400)) return 'mode must let the owner read the file';
  return n;
}

/**
 * The largest uid or gid: ids are 32-bit, and 4294967295 (-1) is chown's "leave unchanged", which would leave the
 * files owned by whoever renders (root) instead of failing.
 */
export const MAX_ID = 4_294_967_294;

/** Parses `uid:gid` (numbers only: the init image has no user database to resolve names), each 0 to MAX_ID. */
export function parseOwner(v: unknown): OwnerSpec | string {
  const s = typeof v === 'number' ? `${v}:${v}` : v;
  if (typeof s !== 'string') return 'must be "uid:gid"';
  const m = /^\s*(\d+)(?::(\d+))?\s*$/.exec(s);
  if (!m) return 'must be "uid:gid" with numeric ids';
  const [uid, gid] = [m[1]!, m[2] ?? m[1]!].map((d) => (d.length > 10 ? Number.POSITIVE_INFINITY : Number(d)));
  if (uid! > MAX_ID || gid! > MAX_ID) return `ids must be 0 to ${MAX_ID} (${MAX_ID + 1} means "unchanged" to chown)`;
  return { uid: uid!, gid: gid! };
}

/** The kinds of source an object in `spec.sources` can be, by the field that names what it reads. */
const SOURCE_KINDS = ['secretId', 'parameter', 'parameterPath'] as const;

function source(p: Problems, path: string, v: unknown): SourceSpec | undefined {
  if (typeof v === 'string') {
    if (v.trim() === '') p.add(path, 'must be a non-empty string');
    return v.trim() === '' ? undefined : Object.freeze({ type: 'secretsmanager' as const, secretId: v.trim() });
  }
  if (!isObj(v)) {
    p.add(path, 'must be a secret id or an object with secretId, parameter or parameterPath');
    return undefined;
  }
  const kinds = SOURCE_KINDS.filter((k) => v[k] !== undefined);
  if (kinds.length > 1) {
    p.add(path, `${kinds.join(' and ')} are exclusive: one source per item`);
    return undefined;
  }
  if (kinds[0] === 'parameter') return parameterSource(p, path, v);
  if (kinds[0] === 'parameterPath') return parameterPathSource(p, path, v);
  checkKnown(p, path, v, ['secretId', 'versionStage', 'versionId', 'keys', 'rename', 'key']);
  const secretId = str(p, `${path}.secretId`, v.secretId, true);
  const versionStage = str(p, `${path}.versionStage`, v.versionStage, false);
  const versionId = str(p, `${path}.versionId`, v.versionId, false);
  if (versionStage && versionId) p.add(path, 'versionStage and versionId are exclusive');
  const keys = v.keys === undefined ? undefined : strList(p, `${path}.keys`, v.keys);
  const rename = renames(p, `${path}.rename`, v.rename, 'secret key');
  const key = variableName(p, `${path}.key`, v.key);
  if (v.key !== undefined && v.key !== null && (keys !== undefined || rename !== undefined)) {
    p.add(path, 'key takes the whole secret; keys and rename do not apply');
  }
  if (!secretId) return undefined;
  return Object.freeze({
    type: 'secretsmanager' as const,
    secretId,
    ...(versionStage && { versionStage }),
    ...(versionId && { versionId }),
    ...(keys && { keys: Object.freeze(keys) }),
    ...(rename && { rename: Object.freeze(rename) }),
    ...(key && { key }),
  });
}

/** `parameter: /short-cut/prod/DATABASE_URL` (or `...:3`, `...:label`), its key the last level unless `key:`. */
function parameterSource(p: Problems, path: string, v: Obj): ParameterSourceSpec | undefined {
  checkKnown(p, path, v, ['parameter', 'key']);
  const text = str(p, `${path}.parameter`, v.parameter, true);
  const ref = text === undefined ? undefined : parseParameterRef(text.trim());
  if (ref && 'problem' in ref) p.add(`${path}.parameter`, `"${text}" is ${ref.problem}`);
  let key = variableName(p, `${path}.key`, v.key);
  if (v.key === undefined && ref && 'name' in ref) {
    // The name written in the config is no secret: its last level is checked here, before anything is read.
    const last = lastLevel(ref.name);
    if (!VARIABLE_NAME.test(last)) {
      p.add(`${path}.key`, `required: the last level "${last}" of the name is not a valid variable name`);
    } else if (isShellOwned(last)) {
      p.add(`${path}.key`, `required: the last level "${last}" ${shellVariable(last)}`);
    } else key = last;
  }
  if (!ref || 'problem' in ref || key === undefined) return undefined;
  return Object.freeze({
    type: 'ssm-parameter' as const,
    parameter: text!.trim(),
    name: ref.name,
    ...(ref.selector !== undefined && { selector: ref.selector }),
    key,
  });
}

/** `parameterPath: /short-cut/prod/`, with `keys`, `rename` and `optional`. */
function parameterPathSource(p: Problems, path: string, v: Obj): ParameterPathSourceSpec | undefined {
  checkKnown(p, path, v, ['parameterPath', 'keys', 'rename', 'optional']);
  const text = str(p, `${path}.parameterPath`, v.parameterPath, true);
  const parsed = text === undefined ? undefined : parseParameterPath(text.trim());
  if (parsed && 'problem' in parsed) p.add(`${path}.parameterPath`, `"${text}": ${parsed.problem}`);
  const keys = v.keys === undefined ? undefined : strList(p, `${path}.keys`, v.keys);
  const rename = renames(p, `${path}.rename`, v.rename, 'key under the path');
  if (v.optional !== undefined && typeof v.optional !== 'boolean') p.add(`${path}.optional`, 'must be true or false');
  if (!parsed || 'problem' in parsed) return undefined;
  return Object.freeze({
    type: 'ssm-path' as const,
    path: parsed.path,
    ...(keys && { keys: Object.freeze(keys) }),
    ...(rename && { rename: Object.freeze(rename) }),
    optional: v.optional === true,
  });
}

/** A `rename` map: each target a variable name no shell owns. */
function renames(p: Problems, path: string, v: unknown, from: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) {
    p.add(path, `must be a map of ${from} to variable name`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, to] of Object.entries(v)) {
    if (typeof to !== 'string' || !VARIABLE_NAME.test(to)) p.add(`${path}.${k}`, 'must be a valid variable name');
    else {
      notShellOwned(p, `${path}.${k}`, to);
      out[k] = to;
    }
  }
  return out;
}

/** An optional variable-name field (`key`): a valid name no shell owns. */
function variableName(p: Problems, path: string, v: unknown): string | undefined {
  const name = str(p, path, v, false);
  if (name === undefined) return undefined;
  if (!VARIABLE_NAME.test(name)) {
    p.add(path, `"${name}" is not a valid variable name`);
    return undefined;
  }
  notShellOwned(p, path, name);
  return name;
}

function fileMapping(p: Problems, path: string, v: unknown): FileMapping | undefined {
  if (!isObj(v)) {
    p.add(path, 'must be an object with fromKey and path');
    return undefined;
  }
  checkKnown(p, path, v, ['fromKey', 'path', 'mode', 'envVar']);
  const fromKey = str(p, `${path}.fromKey`, v.fromKey, true);
  const file = str(p, `${path}.path`, v.path, true);
  if (file !== undefined && !FILE_NAME.test(file)) {
    p.add(`${path}.path`, `"${file}" must be a plain file name inside the output directory`);
  } else if (file !== undefined && RESERVED_FILE_NAMES.includes(file)) {
    p.add(`${path}.path`, `"${file}" is reserved`);
  }
  let mode: number | undefined;
  if (v.mode !== undefined) {
    const m = parseMode(v.mode);
    if (typeof m === 'string') p.add(`${path}.mode`, m);
    else mode = m;
  }
  const envVar = str(p, `${path}.envVar`, v.envVar, false);
  if (envVar !== undefined && !VARIABLE_NAME.test(envVar)) {
    p.add(`${path}.envVar`, `"${envVar}" is not a valid variable name`);
  } else if (envVar !== undefined) notShellOwned(p, `${path}.envVar`, envVar);
  if (!fromKey || !file) return undefined;
  return Object.freeze({ fromKey, path: file, ...(mode !== undefined && { mode }), ...(envVar && { envVar }) });
}

function watchSpec(p: Problems, path: string, v: unknown): WatchSpec | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) {
    p.add(path, 'must be an object');
    return undefined;
  }
  checkKnown(p, path, v, ['clusters', 'interval', 'maxRedeploys', 'capWindow', 'stateKey']);
  const clusters: ClusterBinding[] = [];
  eachObject(p, `${path}.clusters`, v.clusters, { required: false, known: ['name', 'services'] }, (c, cp) => {
    const name = str(p, `${cp}.name`, c.name, true);
    const services: ServiceBinding[] = [];
    eachObject(p, `${cp}.services`, c.services, { required: true, known: ['name', 'secrets'] }, (s, sp) => {
      const sname = str(p, `${sp}.name`, s.name, true);
      const secrets = strList(p, `${sp}.secrets`, s.secrets);
      if (secrets.length === 0) p.add(`${sp}.secrets`, 'must name at least one secret');
      // Over the list as written, so that an invalid earlier item cannot shift the index in the path.
      if (Array.isArray(s.secrets)) {
        s.secrets.forEach((id: unknown, k) => {
          const parsed = typeof id === 'string' && id.trim() !== '' ? parseBindingId(id) : undefined;
          if (parsed && 'problem' in parsed) p.add(`${sp}.secrets[${k}]`, parsed.problem);
        });
      }
      if (sname) services.push(Object.freeze({ name: sname, secrets: Object.freeze(secrets) }));
    });
    if (name) clusters.push(Object.freeze({ name, services: Object.freeze(services) }));
  });
  const intervalMs = duration(p, `${path}.interval`, v.interval, { min: 1000, max: MAX_TIMER_MS });
  const capWindowMs = duration(p, `${path}.capWindow`, v.capWindow, { min: 1000, max: MAX_TIMER_MS });
  const stateKey = str(p, `${path}.stateKey`, v.stateKey, false);
  let maxRedeploys: number | undefined;
  if (v.maxRedeploys !== undefined) {
    if (typeof v.maxRedeploys !== 'number' || !Number.isInteger(v.maxRedeploys) || v.maxRedeploys < 1) {
      p.add(`${path}.maxRedeploys`, 'must be a positive integer');
    } else maxRedeploys = v.maxRedeploys;
  }
  return Object.freeze({
    clusters: Object.freeze(clusters),
    ...(intervalMs !== undefined && { intervalMs }),
    ...(maxRedeploys !== undefined && { maxRedeploys }),
    ...(capWindowMs !== undefined && { capWindowMs }),
    ...(stateKey !== undefined && { stateKey }),
  });
}

/** Validates a parsed YAML document; returns the config or every problem found. */
export function validateConfig(doc: unknown): { config: ConfigFile } | { problems: string[] } {
  const p = new Problems();
  if (!isObj(doc)) return { problems: ['(root): must be a mapping with apiVersion, kind, metadata and spec'] };
  checkKnown(p, '(root)', doc, ['apiVersion', 'kind', 'metadata', 'spec']);
  if (doc.apiVersion !== CONFIG_API_VERSION) p.add('apiVersion', `must be "${CONFIG_API_VERSION}"`);
  if (doc.kind !== CONFIG_KIND) p.add('kind', `must be "${CONFIG_KIND}"`);
  let name = PRODUCT;
  if (doc.metadata !== undefined) {
    if (!isObj(doc.metadata)) p.add('metadata', 'must be a mapping');
    else name = str(p, 'metadata.name', doc.metadata.name, false) ?? name;
  }
  const spec = doc.spec;
  if (!isObj(spec)) {
    p.add('spec', 'required');
    return { problems: p.list };
  }
  checkKnown(p, 'spec', spec, ['sources', 'dotenv', 'files', 'required', 'allowKeys', 'output', 'timeout', 'watch']);
  const sources: SourceSpec[] = [];
  if (spec.sources !== undefined && !Array.isArray(spec.sources)) p.add('spec.sources', 'must be a list');
  if (Array.isArray(spec.sources)) {
    spec.sources.forEach((s, i) => {
      const out = source(p, `spec.sources[${i}]`, s);
      if (out) sources.push(out);
    });
  }
  let dotenvPath: string | undefined;
  if (spec.dotenv !== undefined) {
    if (!isObj(spec.dotenv)) p.add('spec.dotenv', 'must be a mapping with path');
    else {
      checkKnown(p, 'spec.dotenv', spec.dotenv, ['path']);
      dotenvPath = str(p, 'spec.dotenv.path', spec.dotenv.path, true);
    }
  }
  const files: FileMapping[] = [];
  if (spec.files !== undefined && !Array.isArray(spec.files)) p.add('spec.files', 'must be a list');
  if (Array.isArray(spec.files)) {
    const seen = new Set<string>();
    spec.files.forEach((f, i) => {
      const out = fileMapping(p, `spec.files[${i}]`, f);
      if (!out) return;
      // Checked here, not over `files`: an invalid earlier mapping must not shift the index in the path.
      if (seen.has(out.path)) p.add(`spec.files[${i}].path`, `"${out.path}" is written twice`);
      seen.add(out.path);
      files.push(out);
    });
  }
  const required = strList(p, 'spec.required', spec.required, VARIABLE_NAME, 'variable name');
  const allowKeys = strList(p, 'spec.allowKeys', spec.allowKeys, VARIABLE_NAME, 'variable name');
  for (const field of ['required', 'allowKeys'] as const) {
    // Over the list as written, so that an invalid earlier item cannot shift the index in the path.
    const list: unknown = spec[field];
    if (!Array.isArray(list)) continue;
    list.forEach((name, i) => {
      if (typeof name === 'string' && VARIABLE_NAME.test(name)) notShellOwned(p, `spec.${field}[${i}]`, name);
    });
  }
  let outputDir: string | undefined;
  let fileMode: number | undefined;
  let owner: OwnerSpec | undefined;
  if (spec.output !== undefined) {
    if (!isObj(spec.output)) p.add('spec.output', 'must be a mapping');
    else {
      checkKnown(p, 'spec.output', spec.output, ['dir', 'mode', 'owner']);
      outputDir = str(p, 'spec.output.dir', spec.output.dir, false);
      if (spec.output.mode !== undefined) {
        const m = parseMode(spec.output.mode);
        if (typeof m === 'string') p.add('spec.output.mode', m);
        else fileMode = m;
      }
      if (spec.output.owner !== undefined) {
        const o = parseOwner(spec.output.owner);
        if (typeof o === 'string') p.add('spec.output.owner', o);
        else owner = o;
      }
    }
  }
  const timeoutMs = duration(p, 'spec.timeout', spec.timeout);
  const watch = watchSpec(p, 'spec.watch', spec.watch);
  if (p.list.length > 0) return { problems: p.list };
  return {
    config: Object.freeze({
      name,
      sources: Object.freeze(sources),
      ...(dotenvPath !== undefined && { dotenvPath }),
      files: Object.freeze(files),
      required: Object.freeze(required),
      allowKeys: Object.freeze(allowKeys),
      ...(outputDir !== undefined && { outputDir }),
      ...(fileMode !== undefined && { fileMode }),
      ...(owner !== undefined && { owner: Object.freeze(owner) }),
      ...(timeoutMs !== undefined && { timeoutMs }),
      ...(watch !== undefined && { watch }),
    }),
  };
}
