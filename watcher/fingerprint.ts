import { createHash } from 'node:crypto';
import type { SecretVersion } from './model.ts';

/** Bumped if the hashed text ever changes, so an old tag reads as "different", never as a false "equal". */
export const FINGERPRINT_VERSION = 'v1';

/**
 * sha256 over the sorted, distinct `arn=VersionId` lines of the AWSCURRENT versions: independent of binding order,
 * of duplicates and of whether the operator wrote a name or an ARN. `v1:` + 64 hex fits ECS's 256-char tag values.
 */
export function fingerprint(versions: readonly SecretVersion[]): string {
  const lines = [...new Set(versions.map((v) => `${v.arn}=${v.currentVersionId}`))].sort(byCodeUnit);
  return `${FINGERPRINT_VERSION}:${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
}

/** Locale-independent order, so every machine sorts the same way. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
