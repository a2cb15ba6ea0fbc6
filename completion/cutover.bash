# bash completion for cutover(1)                          -*- shell-script -*-
#
# Commands and options come from the binary itself (cutover help --commands,
# cutover help --options COMMAND), step ids from the runbook on the line
# (cutover lint --list-steps RUNBOOK), so they never drift from the program.

# _cutover_runbooks: complete runbook files (*.yaml, *.yml) and directories.
_cutover_runbooks()
{
	local IFS=$'\n'

	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen -d -- "$1"))
	COMPREPLY+=($(compgen -f -X '!*.yaml' -- "$1"))
	COMPREPLY+=($(compgen -f -X '!*.yml' -- "$1"))
}

# _cutover_steps BIN RUNBOOK CUR: complete the step ids of RUNBOOK.
_cutover_steps()
{
	[ -n "$2" ] || return
	COMPREPLY+=($(compgen -W "$("$1" lint --list-steps -- "$2" \
	    2>/dev/null)" -- "$3"))
}

_cutover()
{
	local bin=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=
	local cmd= runbook= w i npos=0 valopts opts cmds

	COMPREPLY=()
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# bash splits --opt=VALUE at the '=' (COMP_WORDBREAKS).
	[ "$prev" = = ] && [ "$COMP_CWORD" -gt 1 ] &&
	    prev=${COMP_WORDS[COMP_CWORD - 2]}
	[ "$cur" = = ] && cur=
	cmds=$("$bin" help --commands 2>/dev/null)
	valopts=" $("$bin" help --options console 2>/dev/null | tr '\n' ' ') "

	# What is on the line so far: the command, the runbook, positionals.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--) ;;
		-*)
			if [[ $w != *=* && $valopts == *" $w= "* ]]; then
				((i++))
				[ "${COMP_WORDS[i]}" = = ] && ((i++))
			fi
			;;
		*)
			if [ -z "$cmd" ] && [ "$npos" = 0 ] &&
			    [[ $'\n'$cmds$'\n' == *$'\n'$w$'\n'* ]]; then
				cmd=$w
				valopts=" $("$bin" help --options "$cmd" \
				    2>/dev/null | tr '\n' ' ') "
				continue
			fi
			[ "$npos" = 0 ] && runbook=$w
			((npos++))
			;;
		esac
	done

	# The value of an option.
	case $prev in
	--state | -o | --theme)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--mode)
		COMPREPLY=($(compgen -W "rehearsal live" -- "$cur"))
		return
		;;
	--format)
		COMPREPLY=($(compgen -W "md html json" -- "$cur"))
		return
		;;
	--until | --to)
		_cutover_steps "$bin" "$runbook" "$cur"
		[ "$prev" = --to ] &&
		    COMPREPLY+=($(compgen -W "start" -- "$cur"))
		return
		;;
	--run | --attempt | --compare | --note | --reason | --operator)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		opts=$("$bin" help --options "${cmd:-console}" 2>/dev/null)
		COMPREPLY=($(compgen -W "${opts//=/}" -- "$cur"))
		return
	fi

	case $cmd in
	"")
		COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		_cutover_runbooks "$cur"
		;;
	help)
		[ "$npos" = 0 ] &&
		    COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		;;
	version) ;;
	lint) _cutover_runbooks "$cur" ;;
	*)
		if [ "$npos" = 0 ]; then
			_cutover_runbooks "$cur"
		elif [ "$npos" = 1 ]; then
			case $cmd in
			confirm | decide | retry | skip | log | diff)
				_cutover_steps "$bin" "$runbook" "$cur"
				;;
			esac
		elif [ "$npos" = 2 ] && [ "$cmd" = decide ]; then
			COMPREPLY=($(compgen -W "go no-go" -- "$cur"))
		fi
		;;
	esac
}

complete -F _cutover cutover
