import { parseBindingId } from '../shared/binding-id.ts';
import { SECRETS_TAG } from '../shared/contract.ts';

/**
 * ECS tag values: at most 256 Unicode characters, letters, numbers, spaces and `_ . : / = + - @` (ECS tag
 * restrictions; the model's TagValue). No comma: a binding that AWS would refuse is reported, never guessed at.
 */
export const TAG_VALUE_MAX = 256;
const TAG_VALUE_CHAR = /[\p{L}\p{Z}\p{N}_.:/=+\-@]/u;

/**
 * An id in a binding: a secret name or ARN (`[A-Za-z0-9/_+=.@-]`, plus `:` in ARNs), or a parameter or path
 * (`ssm:/short-cut/prod/DATABASE_URL`, `ssm:/short-cut/prod/`); shared/binding-id.ts tells them apart.
 */
const ID_TOKEN = /^[A-Za-z0-9/_+=.@:-]+$/;

/** Ids in one tag value are separated by spaces (any Unicode space, since ECS allows those too). */
const SEPARATOR = /[\p{Z}\s]+/u;

/**
 * The key of the n-th binding tag: `secrets-init/secrets`, then `secrets-init/secrets-2`, `-3`, ... A service
 * whose ids do not fit one 256-character value continues them in the next key; the keys are read in order.
 */
export function secretsTagKey(n: number): string {
  return n === 1 ? SECRETS_TAG : `${SECRETS_TAG}-${n}`;
}

/** What a service's binding tags say: which ids, or what is wrong with them. */
export interface BindingTags {
  /** The service carries at least one binding tag (it asked to be watched). */
  readonly present: boolean;
  /** Distinct ids in tag order, then in the order written: secrets, `ssm:` parameters and paths (binding-id.ts). */
  readonly secretIds: readonly string[];
  /** Every problem, each naming the tag key; a binding with problems is not used. */
  readonly problems: readonly string[];
}

/**
 * Reads the binding from a service's tags: `secrets-init/secrets` and its continuations, space-separated ids.
 * Pure: the watcher reports the problems of a service and skips it, `check --cluster` prints them.
 */
export function readBindingTags(tags: Readonly<Record<string, string>>): BindingTags {
  const problems: string[] = [];
  const byIndex = new Map<number, string>();
  for (const [key, value] of Object.entries(tags)) {
    const n = bindingKeyIndex(key);
    if (n === undefined) continue;
    if (n === null) {
      problems.push(
        `${key}: not a binding key (they are ${SECRETS_TAG}, ${secretsTagKey(2)}, ${secretsTagKey(3)}, ...)`,
      );
      continue;
    }
    byIndex.set(n, value);
  }
  const present = byIndex.size > 0 || problems.length > 0;
  const highest = Math.max(0, ...byIndex.keys());
  for (let n = 1; n <= highest; n++) {
    if (!byIndex.has(n)) {
      problems.push(`${secretsTagKey(highest)} is set but ${secretsTagKey(n)} is not: the keys are read in order`);
      break;
    }
  }
  const ids: string[] = [];
  for (let n = 1; n <= highest; n++) {
    const key = secretsTagKey(n);
    const value = byIndex.get(n);
    if (value === undefined) continue;
    const valueProblems = tagValueProblems(key, value);
    problems.push(...valueProblems);
    if (valueProblems.length > 0) continue;
    for (const token of value.split(SEPARATOR).filter((t) => t !== '')) {
      if (!ID_TOKEN.test(token)) {
        problems.push(`${key}: "${token}" is not a secret id (letters, digits and / _ + = . @ : - only)`);
        continue;
      }
      const parsed = parseBindingId(token);
      if ('problem' in parsed) problems.push(`${key}: ${parsed.problem}`);
      else ids.push(token);
    }
  }
  return { present, secretIds: [...new Set(ids)], problems };
}

/** 1 for the base key, n for `-n` (n >= 2, no leading zero), null for another `secrets-init/secrets-*` key. */
function bindingKeyIndex(key: string): number | null | undefined {
  if (key === SECRETS_TAG) return 1;
  if (!key.startsWith(`${SECRETS_TAG}-`)) return undefined;
  const suffix = key.slice(SECRETS_TAG.length + 1);
  return /^[1-9][0-9]*$/.test(suffix) && Number(suffix) >= 2 ? Number(suffix) : null;
}

/** Why ECS would refuse this tag value (the watcher can still meet one: moto, LocalStack, other tag stores). */
function tagValueProblems(key: string, value: string): string[] {
  const problems: string[] = [];
  const length = [...value].length;
  if (length > TAG_VALUE_MAX) {
    problems.push(
      `${key}: ${length} characters, an ECS tag value holds at most ${TAG_VALUE_MAX} (continue the ids in the next key)`,
    );
  }
  const bad = [...new Set([...value].filter((c) => !TAG_VALUE_CHAR.test(c)))];
  if (bad.includes(',')) problems.push(`${key}: commas are not allowed in ECS tag values; separate ids with spaces`);
  const other = bad.filter((c) => c !== ',');
  if (other.length > 0) {
    problems.push(`${key}: characters an ECS tag value cannot hold: ${other.map((c) => JSON.stringify(c)).join(' ')}`);
  }
  return problems;
}
