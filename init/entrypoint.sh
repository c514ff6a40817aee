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
# POSIX sh (dash, busybox ash): no `local`, so helper variables share the _se_ prefix. They are unset
# before app.env is sourced, and nothing after the sourcing reads a variable (only function arguments),
# so a secret may have any name, these included, and no name can change what this script does.
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

# verify FILE NAMES: sources FILE (unless '') in a throw-away subshell, then checks that each of the
# space-separated NAMES is set and non-empty there; sets _se_missing to the missing ones ("A, B").
# In the real shell a `.` that fails (syntax error, bad name, an `exit`) ends the shell at once,
# before any message of ours; here it only ends the subshell and we can fail with one clear line.
# The shell's own message is discarded because it may quote part of a value (bash: "`1X=value': not
# a valid identifier"). The subshell reads no variable of its own after sourcing, as a secret could
# have set it: the names travel as arguments, and the results are echoed (a builtin everywhere, unlike
# printf in mksh, which a PATH from app.env could hide; names never contain a backslash).
verify() {
	set +e
	_se_out=$(
		exec 3>&1 >/dev/null 2>&1 </dev/null
		set -e
		_se_rest=$2
		set -- "$1"
		while [ -n "$_se_rest" ]; do
			set -- "$@" "${_se_rest%% *}"
			case $_se_rest in
			*' '*) _se_rest=${_se_rest#* } ;;
			*) _se_rest= ;;
			esac
		done
		if [ -n "$1" ]; then
			set -a
			# shellcheck source=/dev/null
			. "$1"
			set +a
		fi
		shift
		echo ok >&3
		while [ "$#" -gt 0 ]; do
			# Safe: every name passed is_name in parse_required. ${NAME:-} tests without copying the value.
			eval "[ -n \"\${$1:-}\" ]" || echo "$1" >&3
			shift
		done
	)
	_se_status=$?
	set -e
	case $_se_out in
	ok) _se_missing= ;;
	ok"$_se_nl"*) list_lines "${_se_out#ok"$_se_nl"}" ;;
	*)
		if [ "$_se_status" -eq 0 ]; then
			_se_reason='it exits before its end'
		else
			_se_reason="sourcing it failed with status $_se_status"
		fi
		die "$1 is not a valid env file: $_se_reason (shell message hidden: it may quote a value)"
		;;
	esac
}

# list_lines TEXT: sets _se_missing to the lines of TEXT joined by ", ".
list_lines() {
	_se_rest=$1
	_se_missing=
	while [ -n "$_se_rest" ]; do
		_se_missing="${_se_missing:+$_se_missing, }${_se_rest%%"$_se_nl"*}"
		case $_se_rest in
		*"$_se_nl"*) _se_rest=${_se_rest#*"$_se_nl"} ;;
		*) _se_rest= ;;
		esac
	done
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

# load_and_exec FILE CMD [ARGS...]: sources FILE (unless '') exporting every assignment, then execs
# CMD. Once FILE is sourced it reads only its arguments, which the file cannot overwrite the way it
# could overwrite a variable. The shell's messages are hidden here too (verify saw the file source
# cleanly): bash warns about an invalid locale in LC_* quoting the value.
load_and_exec() {
	if [ -n "$1" ]; then
		set -a
		# shellcheck source=/dev/null
		. "$1" 2>/dev/null
		set +a
	fi
	shift
	exec "$@"
}

main() {
	if [ "$#" -eq 0 ]; then
		usage
	fi
	_se_nl='
'
	_se_file=${SECRETS_DIR:-/run/secrets}/app.env
	parse_optional "${SECRETS_OPTIONAL:-}"
	parse_required "${SECRETS_REQUIRED:-}"
	locate_file "$_se_file" "$_se_optional"
	verify "$_se_load" "$_se_names"
	require_command "$1"
	if [ -n "$_se_missing" ]; then
		if [ -n "$_se_load" ]; then
			die "required variables missing or empty: $_se_missing (from $_se_load)"
		fi
		die "required variables missing or empty: $_se_missing ($_se_file not loaded)"
	fi
	set -- "$_se_load" "$@"
	unset -v _se_bad _se_dir _se_file _se_item _se_load _se_missing _se_names _se_nl _se_optional \
		_se_out _se_problem _se_reason _se_rest _se_status
	load_and_exec "$@"
}

main "$@"
