import type { SecretSourceSpec } from '../shared/config.ts';
import { keyLabel, type Layer, type SecretValue } from './secret-value.ts';

/** What a source returned for one secret (no AWS types: the adapter maps them). */
export interface SecretPayload {
  readonly spec: SecretSourceSpec;
  readonly secretString?: string;
  readonly secretBinary?: Uint8Array;
}

/**
 * Turns one secret into a layer of keys: a JSON object of scalars (nested values kept for file mappings),
 * or the whole secret under `spec.key`. Problems name the secret and keys, never a value.
 */
export function parsePayload(p: SecretPayload): { layer: Layer; problems: string[] } {
  const origin = `secret "${p.spec.secretId}"`;
  const entries = new Map<string, SecretValue>();
  const problems: string[] = [];
  const layer = { origin, entries };
  if (p.spec.key !== undefined) {
    if (p.secretBinary !== undefined) entries.set(p.spec.key, { kind: 'binary', bytes: p.secretBinary });
    else entries.set(p.spec.key, { kind: 'text', text: p.secretString ?? '' });
    return { layer, problems };
  }
  if (p.secretBinary !== undefined && p.secretString === undefined) {
    problems.push(`${origin} holds SecretBinary; take it with "key" and map it to a file`);
    return { layer, problems };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(p.secretString ?? '', keepNumberText);
  } catch {
    // JSON.parse messages quote the input: never pass them on.
    problems.push(`${origin} is not JSON (expected an object of key/value pairs)`);
    return { layer, problems };
  }
  const got = jsonKind(doc);
  if (got !== 'object') {
    problems.push(`${origin} is not a JSON object (got ${got})`);
    return { layer, problems };
  }
  const obj = doc as Record<string, unknown>;
  let keys = Object.keys(obj);
  if (p.spec.keys) {
    for (const k of p.spec.keys) if (!Object.hasOwn(obj, k)) problems.push(`${origin} has no key "${k}"`);
    keys = [...new Set(p.spec.keys)].filter((k) => Object.hasOwn(obj, k));
  }
  const renamedFrom = new Map<string, string>();
  for (const k of keys) {
    const v = obj[k];
    // Own keys only: a secret key such as "constructor" must not pick up Object.prototype members.
    const name = p.spec.rename && Object.hasOwn(p.spec.rename, k) ? p.spec.rename[k]! : k;
    const other = renamedFrom.get(name);
    if (other !== undefined) {
      problems.push(`${origin}: ${keyLabel(other)} and ${keyLabel(k)} both become "${name}"`);
      continue;
    }
    renamedFrom.set(name, k);
    if (typeof v === 'string') entries.set(name, { kind: 'text', text: v });
    else if (RawJson.isRawJSON(v)) entries.set(name, { kind: 'text', text: v.rawJSON });
    else if (typeof v === 'boolean') entries.set(name, { kind: 'text', text: String(v) });
    else if (typeof v === 'object' && v !== null) entries.set(name, { kind: 'json', json: v });
    else problems.push(`${keyLabel(k)} in ${origin} is null`);
  }
  if (p.spec.rename) {
    for (const from of Object.keys(p.spec.rename)) {
      if (!keys.includes(from)) problems.push(`${origin}: rename of missing key "${from}"`);
    }
  }
  return { layer, problems };
}

/** `JSON.rawJSON` (Node 21+; not in TypeScript's es2024 lib): a value JSON.stringify writes as the given text. */
const RawJson = JSON as JSON & {
  rawJSON(text: string): object;
  isRawJSON(v: unknown): v is { readonly rawJSON: string };
};

/** What JSON.parse (with keepNumberText) gave: `object`, `an array`, `number`, `string`, `boolean` or `null`. */
function jsonKind(doc: unknown): string {
  if (doc === null) return 'null';
  if (Array.isArray(doc)) return 'an array';
  if (RawJson.isRawJSON(doc)) return 'number';
  return typeof doc;
}

/**
 * JSON.parse reviver: every number, at any depth, becomes its source text as raw JSON (`context.source`, Node
 * 21+), so 109876543210987654321, 1e400, 1.50 and -0 stay as written in app.env and in a nested value written to
 * a file, instead of passing through a double (109876543210987660000, Infinity -> null, 1.5, 0).
 */
function keepNumberText(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === 'number' && typeof context?.source === 'string' ? RawJson.rawJSON(context.source) : value;
}
