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

/** Merges layers in order, later wins (dotenv first, then secrets in the order given). */
export function mergeLayers(layers: readonly Layer[]): Map<string, MergedEntry> {
  const merged = new Map<string, MergedEntry>();
  for (const layer of layers) {
    for (const [key, value] of layer.entries) merged.set(key, { value, origin: layer.origin });
  }
  return merged;
}
