/**
 * Variable names the supported shells (dash, bash incl. `--posix`, busybox ash, mksh, zsh in sh emulation) treat
 * specially: they set or compute them, give them an integer, read-only, array or tied attribute, or read them to
 * configure themselves. A secret must not use such a name: `app.env` is sourced by one of these shells, and there
 * the name matters as much as the value. bash and mksh evaluate what is assigned to an integer variable
 * (`RANDOM`, `OPTIND`, ...) as arithmetic, whose array subscripts run command substitutions, so
 * `export RANDOM='PPID[$(cmd)]'` runs `cmd`; zsh does the same for its integers (`COLUMNS`, `HISTSIZE`, ...); other
 * names come back changed (`SECONDS`, `_`), abort the sourcing (`OPTIND` in dash, `KSH_VERSION` in mksh, `path`
 * in zsh) or act on the shell (`USERNAME` in zsh changes the user, `ARGV0` the app's argv[0]).
 *
 * Where each list comes from (the versions of Debian 12, which the tests run; `test/unit/shell-names.test.ts`
 * re-derives every name the installed shells report and fails when one is missing here):
 * - dash 0.5.12: dash(1) ENVIRONMENT, `fc`, `getopts` and invocation; `env -i dash -c set`.
 * - bash 5.2.15: bash(1) "Shell Variables"; `env -i bash -c 'declare -p; compgen -v'`, with and without
 *   `--posix`; `GLOBSORT` from bash 5.3's NEWS (its other new names start with `BASH_`).
 * - busybox 1.35 ash: `varinit_data` and the names `ash.c` looks up (busybox has no manual for them);
 *   `env -i busybox ash -c set`, and `${NAME+set}` for the dynamic names `set` hides (`RANDOM`, `EPOCH*`).
 * - mksh R59: mksh(1) "Parameters" and the editing modes (`EDITOR`, `VISUAL`); `env -i mksh -c 'typeset -p'`.
 * - zsh 5.9: zshparam(1) "Parameters set by the shell" and "Parameters used by the shell"; zshmodules(1) for
 *   what modules define or read; `env -i zsh -c 'typeset +'` started natively, after `emulate sh`, with
 *   `--emulate sh` and as `sh`; `zmodload -ap`; and `typeset +` after loading each installed module.
 *   Left out: the specials zsh creates only inside zle widgets and completion functions (`BUFFER`, `words`,
 *   `compstate`, ...), which a non-interactive shell sourcing a file never runs.
 */

/** Names separated by blanks, so that the lists stay as compact as the manuals print them. */
const words = (list: string): readonly string[] => list.trim().split(/\s+/);

const DASH = words(`
  CDPATH EDITOR ENV FCEDIT HISTSIZE HOME IFS MAIL MAILCHECK MAILPATH OLDPWD OPTARG OPTIND PATH PPID PS1 PS2 PS4
  PWD TERM
`);

const BASH = words(`
  BASH BASHOPTS BASHPID BASH_ALIASES BASH_ARGC BASH_ARGV BASH_ARGV0 BASH_CMDS BASH_COMMAND BASH_COMPAT BASH_ENV
  BASH_EXECUTION_STRING BASH_LINENO BASH_LOADABLES_PATH BASH_REMATCH BASH_SOURCE BASH_SUBSHELL BASH_VERSINFO
  BASH_VERSION BASH_XTRACEFD CDPATH CHILD_MAX COLUMNS COMPREPLY COMP_CWORD COMP_KEY COMP_LINE COMP_POINT COMP_TYPE
  COMP_WORDBREAKS COMP_WORDS COPROC DIRSTACK EMACS ENV EPOCHREALTIME EPOCHSECONDS EUID EXECIGNORE FCEDIT FIGNORE
  FUNCNAME FUNCNEST GLOBIGNORE GLOBSORT GROUPS HISTCMD HISTCONTROL HISTFILE HISTFILESIZE HISTIGNORE HISTSIZE
  HISTTIMEFORMAT HOME HOSTFILE HOSTNAME HOSTTYPE IFS IGNOREEOF INPUTRC INSIDE_EMACS LANG LC_ALL LC_COLLATE
  LC_CTYPE LC_MESSAGES LC_NUMERIC LC_TIME LINENO LINES MACHTYPE MAIL MAILCHECK MAILPATH MAPFILE OLDPWD OPTARG
  OPTERR OPTIND OSTYPE PATH PIPESTATUS POSIXLY_CORRECT PPID PROMPT_COMMAND PROMPT_DIRTRIM PS0 PS1 PS2 PS3 PS4 PWD
  RANDOM READLINE_ARGUMENT READLINE_LINE READLINE_MARK READLINE_POINT REPLY SECONDS SHELL SHELLOPTS SHLVL SRANDOM
  TERM TIMEFORMAT TMOUT TMPDIR UID _ auto_resume histchars
`);

const BUSYBOX_ASH = words(`
  BASH_XTRACEFD CDPATH COLUMNS ENV EPOCHREALTIME EPOCHSECONDS FUNCNAME HISTFILE HOME HOSTNAME IFS LANG LC_ALL
  LC_CTYPE LINENO LINES MAIL MAILPATH OLDPWD OPTARG OPTIND PATH PPID PS1 PS2 PS4 PWD RANDOM SHLVL TERM
`);

const MKSH = words(`
  BASHPID CDPATH COLUMNS EDITOR ENV EPOCHREALTIME EXECSHELL FCEDIT FPATH HISTFILE HISTSIZE HOME IFS KSHEGID KSHGID
  KSHUID KSH_MATCH KSH_VERSION LINENO LINES OLDPWD OPTARG OPTIND PATH PATHSEP PGRP PIPESTATUS PPID PS1 PS2 PS3 PS4
  PWD RANDOM REPLY SECONDS SHELL TMOUT TMPDIR USER_ID VISUAL _
`);

const ZSH = words(`
  ARGC ARGV0 BAUD CDPATH COLUMNS CORRECT_IGNORE CORRECT_IGNORE_FILE CPUTYPE DIRSTACKSIZE EGID ENV EPOCHREALTIME
  EPOCHSECONDS ERRNO EUID FCEDIT FIGNORE FPATH FUNCNEST GID HISTCHARS HISTCMD HISTFILE HISTORY_IGNORE HISTSIZE
  HOME HOST IFS KEYBOARD_HACK KEYTIMEOUT LANG LC_ALL LC_COLLATE LC_CTYPE LC_MESSAGES LC_NUMERIC LC_TIME LINENO
  LINES LISTMAX LISTPROMPT LOGCHECK LOGNAME MACHTYPE MAIL MAILCHECK MAILPATH MANPATH MATCH MBEGIN MEND MENUSELECT
  MODULE_PATH NULLCMD OLDPWD OPTARG OPTIND OSTYPE PATH POSTEDIT PPID PROMPT PROMPT2 PROMPT3 PROMPT4
  PROMPT_EOL_MARK PS1 PS2 PS3 PS4 PSVAR PWD RANDOM READNULLCMD REPLY REPORTMEMORY REPORTTIME RPROMPT RPROMPT2 RPS1
  RPS2 SAVEHIST SECONDS SHLVL SPROMPT STTY TERM TERMINFO TERMINFO_DIRS TIMEFMT TMOUT TMPPREFIX TMPSUFFIX
  TRY_BLOCK_ERROR TRY_BLOCK_INTERRUPT TTY TTYIDLE UID USERNAME VENDOR WATCH WATCHFMT WORDCHARS ZBEEP
  ZCURSES_COLORS ZCURSES_COLOR_PAIRS ZDOTDIR ZFTP_ACCOUNT ZFTP_CODE ZFTP_HOST ZFTP_IP ZFTP_PORT ZFTP_PREFS
  ZFTP_PWD ZFTP_REPLY ZFTP_SESSION ZFTP_SYSTEM ZFTP_TMOUT ZFTP_TYPE ZFTP_USER ZFTP_VERBOSE ZLE_LINE_ABORTED
  ZLE_REMOVE_SUFFIX_CHARS ZLE_RPROMPT_INDENT ZLE_SPACE_SUFFIX_CHARS ZLS_COLORS ZLS_COLOURS ZSH_ARGZERO
  ZSH_EVAL_CONTEXT ZSH_EXECUTION_STRING ZSH_NAME ZSH_PATCHLEVEL ZSH_SCRIPT ZSH_SUBSHELL ZSH_VERSION _ aliases argv
  builtins cdpath commands dirstack dis_aliases dis_builtins dis_functions dis_functions_source dis_galiases
  dis_patchars dis_reswords dis_saliases epochtime errnos fignore fpath funcfiletrace funcsourcetrace funcstack
  functions functions_source functrace galiases histchars history historywords jobdirs jobstates jobtexts keymaps
  langinfo mailpath manpath mapfile match mbegin mend module_path modules nameddirs options parameters patchars
  path pipestatus prompt psvar reply reswords saliases signals status sysparams termcap terminfo userdirs
  usergroups watch widgets zcurses_attrs zcurses_colors zcurses_keycodes zcurses_windows zgdbm_tied
  zle_bracketed_paste zle_highlight zsh_eval_context zsh_scheduled_events
`);

/** Each supported shell and the names it treats specially (as its documentation and its own output say). */
export const SHELL_NAMES_BY_SHELL: Readonly<Record<string, ReadonlySet<string>>> = Object.freeze({
  dash: new Set(DASH),
  bash: new Set(BASH),
  'busybox ash': new Set(BUSYBOX_ASH),
  mksh: new Set(MKSH),
  zsh: new Set(ZSH),
});

/** Every name above: the union over the five shells. */
export const SHELL_NAMES: ReadonlySet<string> = new Set([...DASH, ...BASH, ...BUSYBOX_ASH, ...MKSH, ...ZSH]);

/** Namespaces a shell keeps for itself (names a later version adds included), and whose they are. */
const PREFIX_OWNERS: Readonly<Record<string, string>> = { BASH_: 'bash', KSH_: 'mksh', ZSH_: 'zsh' };
export const SHELL_PREFIXES: readonly string[] = Object.keys(PREFIX_OWNERS);

/**
 * The shell names that exist for programs other than the shell (the app, libc, curses, editors), that every
 * supported shell gives back exactly, and that no shell evaluates: a secret may set one when `spec.allowKeys`
 * names it. The integration test sources each with hostile values in all five shells.
 */
export const SHELL_NAMES_APPS_USE: ReadonlySet<string> = new Set([
  'EDITOR',
  'HOME',
  'LANG',
  'LC_ALL',
  'LC_COLLATE',
  'LC_CTYPE',
  'LC_MESSAGES',
  'LC_NUMERIC',
  'LC_TIME',
  'LOGNAME',
  'PATH',
  'SHELL',
  'TERM',
  'TERMINFO',
  'TERMINFO_DIRS',
  'TMPDIR',
  'VISUAL',
]);

/**
 * True when no secret may ever use the name, whatever the config says: a shell owns it (every shell name and
 * prefix above except SHELL_NAMES_APPS_USE).
 */
export function isShellOwned(name: string): boolean {
  if (SHELL_NAMES_APPS_USE.has(name)) return false;
  return SHELL_NAMES.has(name) || SHELL_PREFIXES.some((p) => name.startsWith(p));
}

/** `is a shell variable (special in bash, mksh, zsh)`: why a name can never be a secret, for messages. */
export function shellVariable(name: string): string {
  const shells = Object.entries(SHELL_NAMES_BY_SHELL).filter(([, names]) => names.has(name));
  const prefix = SHELL_PREFIXES.find((p) => name.startsWith(p));
  const owners = shells.length > 0 ? shells.map(([shell]) => shell) : [PREFIX_OWNERS[prefix ?? ''] ?? 'a shell'];
  return `is a shell variable (special in ${owners.join(', ')})`;
}
