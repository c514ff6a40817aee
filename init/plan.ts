import { posix } from 'node:path';
import type { FileMapping } from '../shared/config.ts';
import { ENV_FILE, GCP_FILE, GCP_JSON_KEY, GCP_PATH_VAR, VARIABLE_NAME } from '../shared/contract.ts';
import { ValidationError } from '../shared/errors.ts';
import { shellVariable } from '../shared/shell-names.ts';
import { looksLikeCredential } from './credential-shape.ts';
import { keyRule } from './deny-list.ts';
import { renderEnvFile } from './env-file.ts';
import { execLimitProblems } from './exec-limits.ts';
import { keyLabel, type MergedEntry, type SecretValue } from './secret-value.ts';

export interface PlanInput {
  readonly merged: ReadonlyMap<string, MergedEntry>;
  readonly files: readonly FileMapping[];
  readonly required: readonly string[];
  readonly allowKeys: readonly string[];
  /** The directory as the app sees it: file paths written into app.env point here. */
  readonly outputDir: string;
  readonly fileMode: number;
}

export interface OutputFile {
  readonly name: string;
  readonly content: Buffer;
  readonly mode: number;
}

export interface Plan {
  /** Variables written to app.env (names only are ever logged). */
  readonly vars: ReadonlyMap<string, string>;
  /** app.env and every mapped file, render.json excluded. */
  readonly files: readonly OutputFile[];
}

/**
 * The pure heart of render: merged keys in, the files to write out, or a ValidationError listing every
 * problem (keys and secret ids, never values).
 */
export function planOutputs(input: PlanInput): Plan {
  const problems: string[] = [];
  const vars = new Map<string, string>();
  const files: OutputFile[] = [];
  const taken = new Set<string>();
  const from = (key: string) => input.merged.get(key)?.origin ?? 'the config';

  const mappings: FileMapping[] = [...input.files];
  if (input.merged.has(GCP_JSON_KEY) && !mappings.some((m) => m.fromKey === GCP_JSON_KEY)) {
    mappings.push({ fromKey: GCP_JSON_KEY, path: GCP_FILE, envVar: GCP_PATH_VAR });
  }
  /** Path variable -> the file name it points at. */
  const fileVars = new Map<string, string>();
  for (const m of mappings) {
    const entry = input.merged.get(m.fromKey);
    if (!entry) {
      problems.push(`file "${m.path}": key "${m.fromKey}" not found in any source`);
      continue;
    }
    taken.add(m.fromKey);
    const content = fileContent(m, entry, problems);
    if (content) files.push({ name: m.path, content, mode: m.mode ?? input.fileMode });
    if (!m.envVar) continue;
    const refused = refusedName(m.envVar, input.allowKeys);
    if (refused) {
      problems.push(`file "${m.path}": envVar "${m.envVar}" ${refused}`);
      continue;
    }
    // Two files (a mapping and the default GCP one, say) must not silently fight over one path variable.
    const other = fileVars.get(m.envVar);
    if (other !== undefined) problems.push(`files "${other}" and "${m.path}" both set "${m.envVar}"`);
    else fileVars.set(m.envVar, m.path);
  }

  for (const [key, { value, origin }] of input.merged) {
    if (taken.has(key)) continue;
    const where = `key "${key}" from ${origin}`;
    if (!VARIABLE_NAME.test(key)) {
      problems.push(`${keyLabel(key)} from ${origin} is not a valid variable name`);
      continue;
    }
    if (looksLikeCredential(key) && !input.allowKeys.includes(key)) {
      problems.push(
        `${keyLabel(key)} from ${origin} looks like a credential, not a variable name (keys and values swapped?)`,
      );
      continue;
    }
    const refused = refusedName(key, input.allowKeys);
    if (refused) problems.push(`${where} ${refused}`);
    else if (value.kind === 'binary') problems.push(`${where} is binary; map it to a file`);
    else if (value.kind === 'json') problems.push(`${where} holds a nested value; map it to a file`);
    else if (value.text.includes('\0')) problems.push(`${where} contains a NUL byte`);
    else if (!value.text.isWellFormed()) problems.push(`${where} is not valid Unicode (lone surrogate)`);
    else vars.set(key, value.text);
  }
  for (const [name, file] of fileVars) {
    if (vars.has(name)) problems.push(`key "${name}" from ${from(name)} clashes with the path variable of a file`);
    vars.set(name, posix.join(input.outputDir, file));
  }
  const missing = input.required.filter((k) => {
    const e = input.merged.get(k);
    if (e) return e.value.kind === 'text' ? e.value.text === '' : false;
    return !vars.get(k);
  });
  if (missing.length > 0) problems.push(`required keys missing or empty: ${missing.join(', ')}`);
  if (problems.length === 0) problems.push(...execLimitProblems(vars, from));

  if (problems.length > 0) throw new ValidationError(`invalid secrets: ${problems.join('; ')}`);
  files.unshift({ name: ENV_FILE, content: Buffer.from(renderEnvFile(vars), 'utf8'), mode: input.fileMode });
  return { vars, files };
}

/** Why a variable name cannot be written, or undefined when it can. */
function refusedName(name: string, allowKeys: readonly string[]): string | undefined {
  switch (keyRule(name)) {
    case 'shell':
      return `${shellVariable(name)}; rename it (spec.allowKeys cannot allow it)`;
    case 'denied':
      return allowKeys.includes(name) ? undefined : 'is on the deny list (allow it by name in spec.allowKeys)';
    case 'free':
      return undefined;
  }
}

function fileContent(m: FileMapping, entry: MergedEntry, problems: string[]): Buffer | undefined {
  const where = `key "${m.fromKey}" from ${entry.origin}`;
  const value: SecretValue = entry.value;
  if (m.fromKey === GCP_JSON_KEY) {
    const doc = value.kind === 'json' ? value.json : value.kind === 'text' ? tryJson(value.text) : undefined;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      problems.push(`${where} is not a JSON object (a GCP service-account key is expected)`);
      return undefined;
    }
    if (typeof (doc as { type?: unknown }).type !== 'string') {
      problems.push(`${where} has no "type" field (a GCP service-account key is expected)`);
      return undefined;
    }
  }
  switch (value.kind) {
    case 'binary':
      return Buffer.from(value.bytes);
    case 'json':
      return Buffer.from(`${JSON.stringify(value.json, null, 2)}\n`, 'utf8');
    case 'text':
      if (!value.text.isWellFormed()) {
        problems.push(`${where} is not valid Unicode (lone surrogate)`);
        return undefined;
      }
      return Buffer.from(value.text, 'utf8');
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
