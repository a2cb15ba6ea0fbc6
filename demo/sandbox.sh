# sandbox.sh - the demo sandbox (sourced by bash): a local PostgreSQL with a
# small "legacy" and "odoo" database, a local MariaDB standing in for the
# legacy point-of-sale system (reached through ODBC), and a local sshd
# standing in for the legacy and Odoo application servers, all in one
# temporary directory. The servers run unprivileged (as root: as the users
# "postgres" and "mysql", or a system user created for it) on 127.0.0.1.
#
#   sandbox_up     start everything, load the data, export CUTOVER_DEMO_*
#   sandbox_down   stop everything and remove the directory (also on exit)
#
# What it exports, for runbooks/demo.yaml:
#   CUTOVER_DEMO_DIR          the sandbox directory (the "servers'" files)
#   CUTOVER_DEMO_PG           conninfo of the server, without dbname
#   CUTOVER_DEMO_SSH_PORT     the sshd's port on 127.0.0.1
#   CUTOVER_DEMO_KEY          the private key the sshd accepts
#   CUTOVER_DEMO_KNOWN_HOSTS  a known_hosts file with the sshd's host key
#   CUTOVER_DEMO_TOKEN        a token the runbook treats as a secret
#   ODBCSYSINI ODBCINI        a private unixODBC configuration: the MariaDB
#                             driver and the DSN "legacy_pos" (database "pos",
#                             user and password in the DSN: the driver's own
#                             configuration, so the runbook holds none)
#   CUTOVER_DEMO_MY_PID       the MariaDB server's process id

sandbox_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The test helpers count checks; the sandbox only needs them to exist.
command -v ok >/dev/null || ok() { :; }
command -v fail >/dev/null || fail() { echo "sandbox: $*" >&2; }
command -v cleanup >/dev/null || cleanup() { :; }

sandbox_up() {
	T=${T:-$(mktemp -d "${TMPDIR:-/tmp}/cutover-sandbox.XXXXXX")}
	. "$sandbox_top/tests/pg.sh"
	. "$sandbox_top/tests/sshd.sh"
	pg_start || return 1
	pg_createdb legacy && pg_createdb odoo || return 1
	PGDATABASE=legacy "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
	    -f "$sandbox_top/demo/legacy.sql" >/dev/null || return 1
	PGDATABASE=odoo "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
	    -f "$sandbox_top/demo/odoo.sql" >/dev/null || return 1
	trap 'sandbox_down' EXIT
	sandbox_my_start || return 1
	sshd_init
	sshd_start apps
	sshd_known apps
	trap 'sandbox_down' EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$T/servers"
	chmod 777 "$T/servers"
	export CUTOVER_DEMO_DIR=$T/servers
	export CUTOVER_DEMO_PG="host=127.0.0.1 port=$PGPORT user=cutover"
	export CUTOVER_DEMO_SSH_PORT=$SSHD_PORT
	export CUTOVER_DEMO_KEY=$SSH_KEY
	export CUTOVER_DEMO_KNOWN_HOSTS=$SSH_KNOWN
	export CUTOVER_DEMO_TOKEN=demo-token-$$-$RANDOM
}

sandbox_down() {
	sshd_stop_all 2>/dev/null
	pg_stop 2>/dev/null
	sandbox_my_stop
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}

# The MariaDB server of the legacy POS: data directory and socket in
# $T/mariadb, listening on 127.0.0.1 at a free port.
sandbox_my_dir=
sandbox_my_pid=
sandbox_my_pw=
sandbox_my_start() {
	command -v mariadbd >/dev/null || {
		echo "sandbox: no mariadbd (./bootstrap.sh installs mariadb-server)" >&2
		return 1
	}
	local as="" d=$T/mariadb
	if [ "$(id -u)" = 0 ]; then
		as=mysql
		id mysql >/dev/null 2>&1 || as=${PG_AS:-cutover-test}
	fi
	sandbox_my_dir=$d
	mkdir -p "$d/data" "$d/tmp" "$d/odbc"
	chmod 755 "$T" "$d"
	[ -z "$as" ] || chown "$as" "$d" "$d/data" "$d/tmp"
	mariadb-install-db --no-defaults --datadir="$d/data" --tmpdir="$d/tmp" \
	    ${as:+--user=$as} --auth-root-authentication-method=socket \
	    --skip-test-db >"$d/install.log" 2>&1 || {
		echo "sandbox: mariadb-install-db failed (can user ${as:-$(id -un)} reach $d?):" >&2
		grep -iE 'error|denied|cannot' "$d/install.log" | head -5 >&2
		return 1
	}
	sandbox_my_listen "$as" || return 1
	sandbox_my_pw=pos-$$-$RANDOM
	sandbox_my_sql "CREATE DATABASE pos CHARACTER SET utf8mb4;
	    CREATE USER 'cutover'@'127.0.0.1' IDENTIFIED BY '$sandbox_my_pw';
	    GRANT ALL ON pos.* TO 'cutover'@'127.0.0.1';" || return 1
	sandbox_my_sql "USE pos; $(cat "$sandbox_top/demo/legacy-pos.sql")" ||
		return 1
	sandbox_my_odbc
}

sandbox_my_sql() {
	mariadb --no-defaults -S "$sandbox_my_dir/mysqld.sock" -u root --batch \
	    --skip-column-names -e "$1"
}

# Start mariadbd at a free port (a few tries), wait until it answers.
sandbox_my_listen() {
	local d=$sandbox_my_dir try i
	for try in 1 2 3 4 5; do
		SANDBOX_MY_PORT=$((20000 + (RANDOM * 7 + $$ + try * 211) % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$SANDBOX_MY_PORT") 2>/dev/null && continue
		mariadbd --no-defaults --datadir="$d/data" --tmpdir="$d/tmp" \
		    --socket="$d/mysqld.sock" --port="$SANDBOX_MY_PORT" \
		    --bind-address=127.0.0.1 ${1:+--user=$1} \
		    --pid-file="$d/mariadbd.pid" --skip-log-bin \
		    --innodb-buffer-pool-size=32M --skip-name-resolve \
		    --log-error="$d/server.log" >"$d/stderr.log" 2>&1 &
		sandbox_my_pid=$!
		for i in $(seq 1 300); do
			sandbox_my_sql "SELECT 1" >/dev/null 2>&1 && break 2
			kill -0 "$sandbox_my_pid" 2>/dev/null || break
			sleep 0.1
		done
		sandbox_my_stop_server
	done
	[ -n "$sandbox_my_pid" ] || {
		echo "sandbox: MariaDB did not start:" >&2
		tail -5 "$d/server.log" >&2
		return 1
	}
	export CUTOVER_DEMO_MY_PID=$sandbox_my_pid
}

# The MariaDB ODBC driver and the DSN, registered for the sandbox only.
sandbox_my_odbc() {
	local lib
	lib=$(ls /usr/lib/*/odbc/libmaodbc.so 2>/dev/null | head -1)
	[ -n "$lib" ] || {
		echo "sandbox: no MariaDB ODBC driver (./bootstrap.sh installs odbc-mariadb)" >&2
		return 1
	}
	export ODBCSYSINI=$sandbox_my_dir/odbc ODBCINI=$sandbox_my_dir/odbc/odbc.ini
	printf '[MariaDB]\nDriver=%s\n' "$lib" >"$ODBCSYSINI/odbcinst.ini"
	cat >"$ODBCINI" <<EOT
[legacy_pos]
Driver=MariaDB
Server=127.0.0.1
Port=$SANDBOX_MY_PORT
Database=pos
User=cutover
Password=$sandbox_my_pw
EOT
	chmod 600 "$ODBCINI"
}

sandbox_my_stop_server() {
	[ -n "$sandbox_my_pid" ] || return 0
	kill -9 "$sandbox_my_pid" 2>/dev/null
	wait "$sandbox_my_pid" 2>/dev/null
	sandbox_my_pid=
}

sandbox_my_stop() {
	sandbox_my_stop_server
	[ -n "$sandbox_my_dir" ] || return 0
	[ -n "${KEEP:-}" ] || rm -rf "$sandbox_my_dir"
	sandbox_my_dir=
}
