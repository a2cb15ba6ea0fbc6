# sshd.sh - real OpenSSH sshd instances for the tests (sourced, after
# lib.sh, which provides $T).
#
#   sshd_init               client key pair ($SSH_KEY), authorized_keys,
#                           an empty known_hosts ($SSH_KNOWN)
#   sshd_start NAME [PORT]  an sshd on 127.0.0.1 at a free port (or PORT),
#                           with its own host key, config and log in
#                           $T/sshd-NAME; sets SSHD_PORT; writes its
#                           known_hosts line to $T/sshd-NAME/known_line;
#                           with SSHD_NETNS=NS and SSHD_ADDR=ADDR set, in
#                           network namespace NS on ADDR instead
#                           (SSHD_PASSWORD=yes: password logins too;
#                           SSHD_EXTRA: more sshd_config lines)
#   sshd_known NAME         add NAME's host key line to $SSH_KNOWN
#   sshd_port NAME          print NAME's port
#   sshd_kill NAME          SIGKILL the listener and every process under it
#                           (connection handlers and the commands they run)
#   sshd_stop NAME          stop it the same way; sshd_stop_all at exit
#
# sshd runs in the foreground (-D -e) in the background of the test, as the
# current user (as root it needs /run/sshd, created here if missing).

SSHD=${SSHD:-/usr/sbin/sshd}
SSH_DIR=$T/ssh
SSH_KEY=$SSH_DIR/id_ed25519
SSH_KNOWN=$SSH_DIR/known_hosts
SSH_USER=$(id -un)
sshd_names=

sshd_init() {
	[ -x "$SSHD" ] || { echo "sshd.sh: no $SSHD (apt-get install openssh-server)" >&2; exit 1; }
	mkdir -p "$SSH_DIR"
	chmod 700 "$SSH_DIR"
	ssh-keygen -q -t ed25519 -N '' -C cutover-test -f "$SSH_KEY" || exit 1
	cp "$SSH_KEY.pub" "$SSH_DIR/authorized_keys"
	: >"$SSH_KNOWN"
	if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
		mkdir -p /run/sshd && chmod 755 /run/sshd
	fi
	trap 'sshd_stop_all; cleanup' EXIT
}

# sshd_config for instance directory $1 on port $2.
sshd_config() {
	cat <<EOF
Port $2
ListenAddress ${SSHD_ADDR:-127.0.0.1}
HostKey $1/host_ed25519
PidFile $1/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication ${SSHD_PASSWORD:-no}
KbdInteractiveAuthentication no
MaxStartups 200
MaxSessions 20
LogLevel ${SSHD_LOGLEVEL:-VERBOSE}
# bash reads ~/.bashrc when run by sshd at SHLVL 0: keep the remote
# shell free of the login user's start-up files.
SetEnv SHLVL=1
${SSHD_EXTRA:-}
EOF
}

sshd_start() {
	name=$1
	d=$T/sshd-$name
	mkdir -p "$d"
	[ -f "$d/host_ed25519" ] ||
		ssh-keygen -q -t ed25519 -N '' -C "host-$name" -f "$d/host_ed25519" || exit 1
	tries=0
	while [ $tries -lt 20 ]; do
		tries=$((tries + 1))
		port=${2:-$(shuf -i 20000-59999 -n 1)}
		sshd_config "$d" "$port" >"$d/sshd_config"
		: >"$d/log"
		if [ -n "${SSHD_NETNS:-}" ]; then
			ip netns exec "$SSHD_NETNS" "$SSHD" -D -e -f "$d/sshd_config" 2>>"$d/log" &
		else
			"$SSHD" -D -e -f "$d/sshd_config" 2>>"$d/log" &
		fi
		pid=$!
		addr=${SSHD_ADDR:-127.0.0.1}
		i=0
		while [ $i -lt 100 ]; do
			grep -q "Server listening on $addr port $port" "$d/log" && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
			i=$((i + 1))
		done
		if grep -q "Server listening on $addr port $port" "$d/log"; then
			echo "$pid" >"$d/pid"
			echo "$port" >"$d/port"
			SSHD_PORT=$port
			if [ "$port" = 22 ]; then
				echo "$addr $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" >"$d/known_line"
			else
				echo "[$addr]:$port $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" >"$d/known_line"
			fi
			case " $sshd_names " in *" $name "*) ;; *) sshd_names="$sshd_names $name" ;; esac
			return 0
		fi
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		[ -n "${2:-}" ] && sleep 0.2
	done
	echo "sshd.sh: cannot start sshd $name:" >&2
	cat "$d/log" >&2
	exit 1
}

sshd_known() {
	cat "$T/sshd-$1/known_line" >>"$SSH_KNOWN"
}

sshd_port() {
	cat "$T/sshd-$1/port"
}

# Every process under pid $1 (children first found, then theirs).
sshd_tree() {
	root=$1
	for s in /proc/[0-9]*/stat; do
		{ read -r line <"$s"; } 2>/dev/null || continue
		p=${s#/proc/}
		set -- ${line##*) }
		echo "${p%/stat} $2"
	done >"$T/ps.$$"
	awk -v root="$root" '{ kids[$2] = kids[$2] " " $1 }
	    END { n = split(kids[root], q, " "); i = 1
	        while (i <= n) { p = q[i++]; print p
	            m = split(kids[p], c, " "); for (j = 1; j <= m; j++) q[++n] = c[j] } }' "$T/ps.$$"
	rm -f "$T/ps.$$"
}

sshd_kill() {
	f=$T/sshd-$1/pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	tree=$(sshd_tree "$pid")
	kill -KILL "$pid" $tree 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$f"
}

sshd_stop() {
	sshd_kill "$1"
}

sshd_stop_all() {
	for n in $sshd_names; do
		sshd_stop "$n"
	done
}
