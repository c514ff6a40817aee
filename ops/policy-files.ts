import type { PolicySet } from './policy.ts';

/** The line width of the repository's formatter (biome.json `lineWidth`). */
const LINE_WIDTH = 120;

/**
 * The text of each policy file: two-space JSON with a final newline, laid out the way the repository's formatter
 * (biome) lays out JSON, so that `biome check` and the byte-for-byte test agree on the committed `iam/*.json`:
 * objects always one member a line, arrays of scalars on one line when that line fits.
 */
export function policyFiles(set: PolicySet): Record<string, string> {
  return Object.fromEntries(Object.entries(set).map(([name, doc]) => [name, `${formatJson(doc)}\n`]));
}

/** Formats a JSON value (no trailing newline). */
export function formatJson(value: unknown): string {
  return format(value, 0, 0, 0);
}

/** `used` is what precedes the value on its line after the indent (`"key": `); `tail` what follows (`,`). */
function format(value: unknown, depth: number, used: number, tail: number): string {
  const pad = '  '.repeat(depth);
  const inner = '  '.repeat(depth + 1);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every(isScalar)) {
      const flat = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
      if (pad.length + used + flat.length + tail <= LINE_WIDTH) return flat;
    }
    const items = value.map((v, i) => `${inner}${format(v, depth + 1, 0, i < value.length - 1 ? 1 : 0)}`);
    return `[\n${items.join(',\n')}\n${pad}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const items = entries.map(([k, v], i) => {
      const key = `${JSON.stringify(k)}: `;
      return `${inner}${key}${format(v, depth + 1, key.length, i < entries.length - 1 ? 1 : 0)}`;
    });
    return `{\n${items.join(',\n')}\n${pad}}`;
  }
  return JSON.stringify(value);
}

function isScalar(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}
