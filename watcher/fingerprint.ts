import { createHash } from 'node:crypto';
import type { SecretVersion } from './model.ts';

/**
 * The fingerprint of a service's versions: sha256 over the sorted, distinct `key=VersionId` lines of the AWSCURRENT
 * versions, its first 128 bits in hex. Independent of binding order, of duplicates and of whether the operator wrote
 * a name or an ARN (versions are keyed by ARN).
 */
export function fingerprint(versions: readonly SecretVersion[]): string {
  return digest(versions.map((v) => `${v.arn}=${v.currentVersionId}`)).slice(0, 32);
}

/** The first watcher's fingerprint (`v1:` + 64 hex), to read the tags it wrote. */
export function fingerprintV1(versions: readonly SecretVersion[]): string {
  return `v1:${digest(versions.map((v) => `${v.arn}=${v.currentVersionId}`))}`;
}

/**
 * A digest of a binding (the ids a service is bound to, as written): two watchers that bind one service to different
 * secrets tell each other apart by it.
 */
export function bindingDigest(ids: readonly string[]): string {
  return digest(ids).slice(0, 8);
}

function digest(lines: readonly string[]): string {
  return createHash('sha256')
    .update([...new Set(lines)].sort(byCodeUnit).join('\n'))
    .digest('hex');
}

/** Locale-independent order, so every machine sorts the same way. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
