/**
 * The longest wait a Node.js timer holds: 2^31-1 ms, about 24.8 days. `setTimeout` fires anything longer after
 * 1 ms (with a warning), so a longer interval would turn a loop into a busy one; every duration read is bounded by it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DurationRange {
  /** Inclusive, in milliseconds. */
  readonly min: number;
  /** Inclusive, in milliseconds; at most MAX_TIMER_MS. */
  readonly max: number;
}

const TIMER_RANGE: DurationRange = { min: 1, max: MAX_TIMER_MS };
const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses `30s`, `5m`, `1h`, `250ms` or a bare number of seconds into whole milliseconds within `range` (default:
 * 1 ms to MAX_TIMER_MS). Anything else is returned as a problem (text without a subject, for the caller to prefix
 * with the flag, variable or config path it read): garbage, a negative, `Infinity`, a thousand digits, or a
 * value out of range. Never a number the caller has to check again.
 */
export function parseDuration(text: string, range: DurationRange = TIMER_RANGE): number | string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return `${quoted(text)} is not a duration such as "30s", "5m" or "1h"`;
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!);
  const max = Math.min(range.max, MAX_TIMER_MS);
  // Infinity (a thousand digits) is not finite and fails here too.
  if (!(ms <= max)) {
    const why = max === MAX_TIMER_MS ? ' (about 24.8 days, the longest wait a timer holds)' : '';
    return `${quoted(text)} is longer than the maximum of ${showMs(max)}${why}`;
  }
  if (ms < range.min) return `${quoted(text)} is shorter than the minimum of ${showMs(range.min)}`;
  return ms;
}

/** `1h`, `90s`, `250ms`: the largest unit that states the value exactly. */
export function showMs(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) if (ms % UNITS[unit]! === 0) return `${ms / UNITS[unit]!}${unit}`;
  return `${ms}ms`;
}

/** The text as written, cut short: a setting, never a secret, but an error line stays one short line. */
function quoted(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > 40 ? `${t.slice(0, 40)}...` : t);
}
