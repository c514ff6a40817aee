/**
 * Renders app.env: `export NAME='value'` lines sorted by name. Inside single quotes a POSIX shell takes every
 * byte literally except `'`, which is written `'\''`; so sourcing the file gives back each value exactly
 * (newlines, `$()`, backticks, backslashes included) and executes nothing. Names and values are validated
 * before this is called (valid names, no NUL).
 */
export function renderEnvFile(vars: ReadonlyMap<string, string>): string {
  const names = [...vars.keys()].sort();
  return names.map((n) => `export ${n}='${vars.get(n)!.replaceAll("'", "'\\''")}'\n`).join('');
}
