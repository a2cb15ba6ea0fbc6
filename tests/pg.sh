# pg.sh - a throwaway PostgreSQL server for tests (sourced, after lib.sh).
#
# pg_start starts a server on 127.0.0.1 at a free port, its data directory
# and Unix socket in a temporary directory, and stops it (and removes the
# directory) when the test exits. It exports:
#   PGHOST=127.0.0.1 PGPORT PGUSER=cutover PGDATABASE=cutover
#   PG_CONNINFO   "host=127.0.0.1 port=PORT user=cutover dbname=cutover"
#   PG_RESTART    a command line that restarts the server (for local steps)
# Authentication is trust, except for role "app" (created by pg_start, with
# password $PG_APP_PASSWORD) which must give its password (scram-sha-256).
#
# initdb refuses to run as root: as root, the server runs as the unprivileged
# user $PG_TEST_USER (default: "postgres" if it exists, else "cutover-test",
# created with useradd when missing) through runuser.
#
# Other helpers: pg_psql SQL (one query, unaligned output), pg_restart,
# pg_stop, pg_createdb NAME.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_APP_PASSWORD=${PG_APP_PASSWORD:-app-Pa55-w0rd}
PG_DIR=
PG_AS=

# Run a server binary, as the unprivileged user when we are root.
pg_as() {
	if [ -n "$PG_AS" ]; then
		runuser -u "$PG_AS" -- "$@"
	else
		"$@"
	fi
}

# Pick the user that owns the server when running as root.
pg_pick_user() {
	[ "$(id -u)" = 0 ] || return 0
	if [ -n "${PG_TEST_USER:-}" ]; then
		PG_AS=$PG_TEST_USER
	elif id postgres >/dev/null 2>&1; then
		PG_AS=postgres
	else
		PG_AS=cutover-test
		id "$PG_AS" >/dev/null 2>&1 ||
			useradd --system --no-create-home --shell /usr/sbin/nologin \
			    "$PG_AS" || return 1
	fi
}

pg_psql() {
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At -c "$1"
}

pg_createdb() {
	pg_psql "CREATE DATABASE \"$1\"" >/dev/null
}

# initdb into $PG_DIR/data, with the access rules described above.
pg_initdb() {
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U cutover -A trust -E UTF8 \
	    --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 || {
		echo "pg.sh: initdb failed:" >&2
		cat "$PG_DIR/initdb.log" >&2
		return 1
	}
	pg_as sh -c "cat >'$PG_DIR/data/pg_hba.conf'" <<EOF
local all all trust
host all app 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
EOF
}

# Start on a free port; a port taken meanwhile means another try.
pg_listen() {
	local try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		PGPORT=$((20000 + (RANDOM * 7 + $$ + try * 131) % 40000))
		"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" -t 1 &&
			continue
		pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
		    -w -t 30 -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT \
-c unix_socket_directories=$PG_DIR -c fsync=off -c max_connections=40" \
		    start >/dev/null 2>&1 && return 0
	done
	echo "pg.sh: could not start PostgreSQL:" >&2
	tail -20 "$PG_DIR/server.log" >&2
	return 1
}

pg_start() {
	[ -x "$PG_BIN/initdb" ] || {
		echo "pg.sh: no PostgreSQL server binaries (apt-get install postgresql)" >&2
		return 1
	}
	pg_pick_user || return 1
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cutover-pg.XXXXXX") || return 1
	chmod 755 "$PG_DIR"
	[ -z "$PG_AS" ] || chown "$PG_AS" "$PG_DIR"
	trap 'pg_stop; command -v cleanup >/dev/null && cleanup' EXIT
	trap 'exit 130' INT TERM
	pg_initdb && pg_listen || return 1
	export PGHOST=127.0.0.1 PGPORT PGUSER=cutover PGDATABASE=postgres
	pg_createdb cutover || return 1
	export PGDATABASE=cutover
	export PG_CONNINFO="host=127.0.0.1 port=$PGPORT user=cutover dbname=cutover"
	export PG_RESTART="${PG_AS:+runuser -u $PG_AS -- }$PG_BIN/pg_ctl -D $PG_DIR/data -l $PG_DIR/server.log -w -t 30 -m fast restart"
	pg_psql "CREATE ROLE app LOGIN PASSWORD '$PG_APP_PASSWORD'" >/dev/null
}

# Restart the server (sessions are ended, as in a real restart).
pg_restart() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
	    -t 30 -m fast restart >/dev/null 2>&1
}

pg_stop() {
	[ -n "$PG_DIR" ] || return 0
	[ ! -f "$PG_DIR/data/postmaster.pid" ] ||
		pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop \
		    >/dev/null 2>&1
	[ -n "${KEEP:-}" ] && { echo "kept $PG_DIR"; return 0; }
	rm -rf "$PG_DIR"
	PG_DIR=
}
