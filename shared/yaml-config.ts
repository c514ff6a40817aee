import { isScalar, LineCounter, parseDocument, visit } from 'yaml';

/**
 * YAML text to plain data, or one problem line. Messages of the parser quote the source, so only positions and
 * codes are reported. Every way the parser fails is a problem, never a throw: an alias bomb (more than 100 alias
 * expansions), nesting deep enough to exhaust the stack, a key given twice.
 */
export function parseYamlConfig(text: string): { doc: unknown } | { problem: string } {
  const lineCounter = new LineCounter();
  try {
    // Level "error": the parser prints nothing (warnings are problems of the config here), yet still reports a
    // second document, which "silent" would drop unseen. Duplicate keys are found below: the parser's own check
    // compares every key with every other (minutes for 100k keys).
    const parsed = parseDocument(text, { prettyErrors: true, uniqueKeys: false, logLevel: 'error', lineCounter });
    const first = parsed.errors[0] ?? parsed.warnings[0];
    if (first) {
      const at = first.linePos?.[0] ? ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}` : '';
      // The parser reports a stack overflow while nesting as RESOURCE_EXHAUSTION.
      const code = first.code === 'RESOURCE_EXHAUSTION' ? 'nested too deeply' : first.code;
      return { problem: `invalid YAML${at} (${code})` };
    }
    const duplicate = firstDuplicateKey(parsed);
    if (duplicate !== undefined) {
      const { line, col } = lineCounter.linePos(duplicate);
      return { problem: `invalid YAML at line ${line}, column ${col} (DUPLICATE_KEY)` };
    }
    return { doc: parsed.toJS({ maxAliasCount: 100 }) };
  } catch (err) {
    // toJS throws a ReferenceError for an alias bomb or an alias before its anchor; any walk of a deep enough
    // document overflows the stack. The parser's messages name the alias at most, never a value.
    if (err instanceof ReferenceError && /^Excessive alias count/.test(err.message)) {
      return { problem: 'invalid YAML: aliases expand to more than 100 nodes (an alias bomb?)' };
    }
    if (err instanceof ReferenceError && /^Unresolved alias/.test(err.message)) {
      return { problem: 'invalid YAML: an alias (*name) without its anchor (&name) before it' };
    }
    if (err instanceof RangeError) return { problem: 'invalid YAML: nested too deeply' };
    return { problem: `invalid YAML (${err instanceof Error ? err.name : typeof err})` };
  }
}

/** Offset of the first mapping key equal to an earlier key of the same mapping, in one pass over each mapping. */
function firstDuplicateKey(doc: ReturnType<typeof parseDocument>): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        if (!isScalar(key)) continue;
        if (seen.has(key.value)) {
          found = key.range?.[0] ?? 0;
          return visit.BREAK;
        }
        seen.add(key.value);
      }
      return undefined;
    },
  });
  return found;
}
