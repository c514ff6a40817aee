/**
 * What the entrypoint's `exec` can pass to the app. Linux refuses an exec (E2BIG, "Argument list too long") when one
 * `NAME=value` string, its NUL included, exceeds MAX_ARG_STRLEN (32 pages: 128 KiB), or when all argument and
 * environment strings with their pointers exceed a quarter of the stack limit (2 MiB under the usual 8 MiB). A
 * render that wrote such a value would exit 0 and the app would never start, so render refuses it instead.
 */

/** Linux MAX_ARG_STRLEN: the longest `NAME=value` string exec passes, its terminating NUL included. */
export const EXEC_STRING_MAX = 128 * 1024;

/**
 * app.env's share of the exec limit: its strings, their NULs and one 8-byte pointer each. Half of the 2 MiB that
 * the default 8 MiB stack allows; the other half is left for the image's own environment and the command line.
 */
export const EXEC_ENV_BUDGET = 1024 * 1024;

/** The problems (names and sizes, never values) of variables that could not pass through exec. */
export function execLimitProblems(vars: ReadonlyMap<string, string>, originOf: (key: string) => string): string[] {
  const problems: string[] = [];
  const sizes = [...vars].map(([name, value]) => ({
    name,
    bytes: Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1,
  }));
  for (const { name, bytes } of sizes) {
    if (bytes > EXEC_STRING_MAX) {
      problems.push(
        `key "${name}" from ${originOf(name)} is ${bytes} bytes as NAME=value; exec passes at most ` +
          `${EXEC_STRING_MAX} (Linux MAX_ARG_STRLEN): map it to a file (spec.files)`,
      );
    }
  }
  const total = sizes.reduce((sum, s) => sum + s.bytes + 8, 0);
  if (problems.length === 0 && total > EXEC_ENV_BUDGET) {
    const largest = [...sizes]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 5)
      .map((s) => `${s.name} (${s.bytes} bytes)`);
    problems.push(
      `app.env variables take ${total} bytes of the exec limit, at most ${EXEC_ENV_BUDGET} ` +
        `(half of Linux's default 2 MiB): map the largest to files (spec.files): ${largest.join(', ')}`,
    );
  }
  return problems;
}
