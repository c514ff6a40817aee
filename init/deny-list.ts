import { isShellOwned, SHELL_NAMES_APPS_USE } from '../shared/shell-names.ts';

/**
 * Variables a secret may not set unless the config allows them by name (`spec.allowKeys`): each changes how
 * the app, the dynamic linker, the C library or a language runtime behaves, so a bad or hostile secret could
 * run code in the app. The shell's own names are stricter: see `shared/shell-names.ts` (never allowed).
 * SECRETS_* are the entrypoint's settings: it reads them before sourcing app.env, and they are here so that a
 * secret cannot hand other values to a program that reads them later.
 */
export const DENIED_NAMES: ReadonlySet<string> = new Set([
  // read by a shell too, but they exist for the app and every shell gives them back exactly
  ...SHELL_NAMES_APPS_USE,
  'HOSTALIASES',
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  'NODE_TLS_REJECT_UNAUTHORIZED',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONSTARTUP',
  'PYTHONINSPECT',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'GCONV_PATH',
  'MALLOC_CHECK_',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  // C library behaviour
  'GLIBC_TUNABLES',
  'LOCPATH',
  'NLSPATH',
  'RES_OPTIONS',
  'LOCALDOMAIN',
  'SECRETS_DIR',
  'SECRETS_REQUIRED',
  'SECRETS_OPTIONAL',
]);
export const DENIED_PREFIXES: readonly string[] = ['LD_', 'DYLD_', 'LC_'];

/**
 * What render does with a variable name: `shell` refuses it always (a supported shell owns it; no config can
 * allow it), `denied` refuses it unless `spec.allowKeys` names it, `free` writes it.
 */
export type KeyRule = 'shell' | 'denied' | 'free';

export function keyRule(name: string): KeyRule {
  if (isShellOwned(name)) return 'shell';
  if (DENIED_NAMES.has(name) || DENIED_PREFIXES.some((p) => name.startsWith(p))) return 'denied';
  return 'free';
}
