#!/bin/sh
# secrets-entrypoint CMD [ARGS...]
#
# Entrypoint of the app image (installed as /usr/local/bin/secrets-entrypoint). Sources the env file
# that the init container rendered, checks the required names, then execs CMD in place of this shell,
# so CMD keeps this PID (PID 1 in a container) and receives the signals ECS sends.
#
# Environment, read before app.env is sourced so that a secret cannot change it:
#   SECRETS_DIR       directory holding app.env (default /run/secrets)
#   SECRETS_REQUIRED  comma-separated names that must be set and non-empty once app.env is loaded
#   SECRETS_OPTIONAL  "true": start without app.env when it is missing or unreadable (default false)
#
# Exit status: 2 usage (no command given); 1 any other error of this script; 127 (126) when CMD does
# not exist (is not executable), as a shell reports it; otherwise CMD's own status, since CMD replaces
# this shell. Messages are one line on stderr and name variables and files, never a value.
#
# POSIX sh (dash, busybox ash): no `local`, so helper variables share the _se_ prefix and are unset
# before the exec (a secret with such a name would be dropped too; the prefix makes that unlikely).
set -eu

# die MESSAGE [STATUS]
die() {
	printf 'secrets-entrypoint: %s\n' "$1" >&2
	exit "${2:-1}"
}

note() {
	printf 'secrets-entrypoint: %s\n' "$1" >&2
}

usage() {
	die 'no command given; usage: secrets-entrypoint CMD [ARGS...]' 2
}

# is_name WORD: true when WORD is a shell variable name, [A-Za-z_][A-Za-z0-9_]*. The letters are
# spelled out because a range such as [A-Z] follows the locale in some shells, and this check is
# what makes the eval in check_required safe.
is_name() {
	case $1 in
	'' | [!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_]*) return 1 ;;
	*[!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_]*) return 1 ;;
	esac
}

# parse_optional VALUE: sets _se_optional to true or false.
parse_optional() {
	case $1 in
	true) _se_optional=true ;;
	'' | false) _se_optional=false ;;
	*) die 'SECRETS_OPTIONAL must be "true" or "false"' ;;
	esac
}

# parse_required LIST: sets _se_names to the names of the comma-separated LIST, separated by single
# spaces, without duplicates; blanks around a name and empty items are ignored. Dies naming every
# item that is not a variable name.
parse_required() {
	_se_rest=$1,
	_se_names=
	_se_bad=
	while [ -n "$_se_rest" ]; do
		_se_item=${_se_rest%%,*}
		_se_rest=${_se_rest#*,}
		_se_item=${_se_item#"${_se_item%%[![:space:]]*}"}
		_se_item=${_se_item%"${_se_item##*[![:space:]]}"}
		if [ -z "$_se_item" ]; then
			continue
		elif ! is_name "$_se_item"; then
			_se_bad="${_se_bad:+$_se_bad, }\"$_se_item\""
		else
			case " $_se_names " in
			*" $_se_item "*) ;;
			*) _se_names="${_se_names:+$_se_names }$_se_item" ;;
			esac
		fi
	done
	if [ -n "$_se_bad" ]; then
		die "SECRETS_REQUIRED: not a valid variable name: $_se_bad"
	fi
}

# locate_file FILE OPTIONAL: sets _se_load to FILE when it should be sourced, or to '' when it is
# missing or unreadable and OPTIONAL is true; dies otherwise.
locate_file() {
	_se_load=$1
	_se_problem=
	_se_dir=${1%/*}
	if [ -e "$1" ]; then
		if [ -d "$1" ]; then
			die "$1 is a directory, not an env file"
		elif [ ! -r "$1" ]; then
			_se_problem="is not readable by uid $(current_uid)"
		fi
	elif [ -d "$_se_dir" ] && [ ! -x "$_se_dir" ]; then
		# A directory we may not enter hides its files: say so rather than "does not exist".
		_se_problem="is not readable by uid $(current_uid): cannot enter $_se_dir"
	else
		_se_problem='does not exist'
	fi
	if [ -z "$_se_problem" ]; then
		return 0
	elif [ "$2" = true ]; then
		note "$1 $_se_problem; starting without it (SECRETS_OPTIONAL=true)"
		_se_load=
	else
		die "$1 $_se_problem (set SECRETS_OPTIONAL=true to start without it)"
	fi
}

current_uid() {
	id -u 2>/dev/null || printf 'unknown'
}

# try_source FILE: sources FILE in a throw-away subshell first. In the real shell a `.` that fails
# (syntax error, bad name, an `exit`) ends the shell at once, before any message of ours; here it
# only ends the subshell and we can fail with one clear line. The shell's own message is discarded
# because it may quote part of a value (bash: "`1X=value': not a valid identifier").
try_source() {
	set +e
	_se_ok=$(
		exec 3>&1 >/dev/null 2>&1 </dev/null
		set -e
		set -a
		# shellcheck source=/dev/null
		. "$1"
		printf 'ok' >&3
	)
	_se_status=$?
	set -e
	if [ "$_se_ok" = ok ]; then
		return 0
	elif [ "$_se_status" -eq 0 ]; then
		_se_reason='it exits before its end'
	else
		_se_reason="sourcing it failed with status $_se_status"
	fi
	die "$1 is not a valid env file: $_se_reason (shell message hidden: it may quote a value)"
}

# require_command CMD: fails early, with our own clear line, when exec could not run CMD.
require_command() {
	case $1 in
	*/*)
		if [ ! -e "$1" ]; then
			die "cannot run $1: no such file" 127
		elif [ -d "$1" ] || [ ! -x "$1" ]; then
			die "cannot run $1: not an executable file" 126
		fi
		;;
	*)
		if ! command -v "$1" >/dev/null 2>&1; then
			die "cannot run $1: command not found in PATH" 127
		fi
		;;
	esac
}

# load_and_check FILE NAMES WHERE: sources FILE (unless '') exporting every assignment, then checks
# that each of the space-separated NAMES is set and non-empty. Whatever it needs after sourcing comes
# in as arguments, which the sourced file cannot overwrite the way it could overwrite a variable.
load_and_check() {
	if [ -n "$1" ]; then
		set -a
		# shellcheck source=/dev/null
		. "$1"
		set +a
	fi
	check_required "$2" "$3"
}

# check_required NAMES WHERE: lists every missing or empty name in one line; prints no value.
check_required() {
	_se_rest=$1
	_se_missing=
	while [ -n "$_se_rest" ]; do
		_se_name=${_se_rest%% *}
		case $_se_rest in
		*' '*) _se_rest=${_se_rest#* } ;;
		*) _se_rest= ;;
		esac
		# Safe: every name passed is_name in parse_required. ${NAME:+y} tests without copying the value.
		eval "_se_set=\${$_se_name:+y}"
		if [ -z "$_se_set" ]; then
			_se_missing="${_se_missing:+$_se_missing, }$_se_name"
		fi
	done
	if [ -n "$_se_missing" ]; then
		die "required variables missing or empty: $_se_missing ($2)"
	fi
}

main() {
	if [ "$#" -eq 0 ]; then
		usage
	fi
	_se_file=${SECRETS_DIR:-/run/secrets}/app.env
	parse_optional "${SECRETS_OPTIONAL:-}"
	parse_required "${SECRETS_REQUIRED:-}"
	locate_file "$_se_file" "$_se_optional"
	if [ -n "$_se_load" ]; then
		try_source "$_se_load"
		_se_where="from $_se_load"
	else
		_se_where="$_se_file not loaded"
	fi
	require_command "$1"
	load_and_check "$_se_load" "$_se_names" "$_se_where"
	unset -v _se_bad _se_dir _se_file _se_item _se_load _se_missing _se_name _se_names _se_ok \
		_se_optional _se_problem _se_reason _se_rest _se_set _se_status _se_where
	exec "$@"
}

main "$@"
