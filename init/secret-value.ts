import { VARIABLE_NAME } from '../shared/contract.ts';
import { looksLikeCredential } from './credential-shape.ts';

/** A value as it came from a source, before it is placed in app.env or a file. */
export type SecretValue =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'json'; readonly json: object }
  | { readonly kind: 'binary'; readonly bytes: Uint8Array };

/** One source's keys and where they came from (`secret "short-cut/prod/app"`, `dotenv ".env"`), for messages. */
export interface Layer {
  readonly origin: string;
  readonly entries: ReadonlyMap<string, SecretValue>;
}

export interface MergedEntry {
  readonly value: SecretValue;
  readonly origin: string;
}

export const text = (t: string): SecretValue => ({ kind: 'text', text: t });

/**
 * A key as logs and messages may show it before it has been validated. A key that is not a variable name, or has
 * the shape of a credential (credential-shape.ts), is not shown: keys and values swapped in the console, or a
 * dotenv value whose quote was left open, put secret text where a key should be.
 */
export function shownKey(key: string): string {
  return isShowable(key) ? key : `(a ${key.length}-character key, not shown)`;
}

function isShowable(key: string): boolean {
  return VARIABLE_NAME.test(key) && key.length <= 128 && !looksLikeCredential(key);
}

/** `key "NAME"` for messages, or `a 6-character key (not shown)`. */
export function keyLabel(key: string): string {
  return isShowable(key) ? `key "${key}"` : `a ${key.length}-character key (not shown)`;
}

/** Merges layers in order, later wins (dotenv first, then secrets in the order given). */
export function mergeLayers(layers: readonly Layer[]): Map<string, MergedEntry> {
  const merged = new Map<string, MergedEntry>();
  for (const layer of layers) {
    for (const [key, value] of layer.entries) merged.set(key, { value, origin: layer.origin });
  }
  return merged;
}
