/**
 * Variables a secret may not set unless the config allows them by name (`spec.allowKeys`): each changes how
 * a shell, the dynamic linker or a runtime behaves, so a bad or hostile secret could run code in the app.
 * SECRETS_* names used by the entrypoint are here so a secret cannot switch its checks off.
 */
export const DENIED_NAMES: ReadonlySet<string> = new Set([
  'PATH',
  'IFS',
  'ENV',
  'BASH_ENV',
  'SHELLOPTS',
  'BASHOPTS',
  'PS1',
  'PS2',
  'PS3',
  'PS4',
  'PROMPT_COMMAND',
  'CDPATH',
  'GLOBIGNORE',
  'HOME',
  'PWD',
  'OLDPWD',
  'SHELL',
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
  // read-only or special in bash and zsh: assigning them fails or (zsh) tries to change the process's ids
  'UID',
  'EUID',
  'GID',
  'EGID',
  'PPID',
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
export const DENIED_PREFIXES: readonly string[] = ['LD_', 'DYLD_', 'BASH_'];

export function isDenied(name: string): boolean {
  return DENIED_NAMES.has(name) || DENIED_PREFIXES.some((p) => name.startsWith(p));
}
