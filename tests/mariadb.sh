# mariadb.sh - a throwaway MariaDB server for tests (sourced, after lib.sh).
#
# my_start starts mariadbd (Debian's mariadb-server) on 127.0.0.1 at a free
# port, its data directory and Unix socket in a temporary directory, and
# stops it (and removes the directory) when the test exits. As root the
# server runs as an unprivileged user ($MY_TEST_USER, default "mysql" if it
# exists, else "cutover-test"). It exports:
#   MY_PORT MY_SOCKET      where it listens
#   MY_PASSWORD            the password of user "cutover" (all privileges)
# and creates the database "cutover". It also registers the MariaDB ODBC
# driver (odbc-mariadb) and, when installed, the SQLite ODBC driver
# (libsqliteodbc) in a private odbcinst.ini: ODBCSYSINI and ODBCINI point
# into the temporary directory, so that nothing of the machine's is used.
#
# Other helpers: my_sql SQL (as root over the socket, batch output),
# my_stop.

MY_PASSWORD=${MY_PASSWORD:-my-Pa55-w0rd}
MY_DIR=
MY_AS=
MY_PID=

my_pick_user() {
	[ "$(id -u)" = 0 ] || return 0
	if [ -n "${MY_TEST_USER:-}" ]; then
		MY_AS=$MY_TEST_USER
	elif id mysql >/dev/null 2>&1; then
		MY_AS=mysql
	else
		MY_AS=cutover-test
		id "$MY_AS" >/dev/null 2>&1 ||
			useradd --system --no-create-home --shell /usr/sbin/nologin \
			    "$MY_AS" || return 1
	fi
}

my_sql() {
	mariadb --no-defaults -S "$MY_SOCKET" -u root --batch --skip-column-names \
	    -e "$1"
}

# The drivers, registered for this test only.
my_odbc_register() {
	local lib=/usr/lib/x86_64-linux-gnu/odbc
	[ -d "$lib" ] || lib=$(dirname "$(ls /usr/lib/*/odbc/libmaodbc.so | head -1)")
	export ODBCSYSINI="$MY_DIR/odbc" ODBCINI="$MY_DIR/odbc/odbc.ini"
	mkdir -p "$ODBCSYSINI"
	{
		echo "[MariaDB]"
		echo "Driver=$lib/libmaodbc.so"
		if [ -f "$lib/libsqlite3odbc.so" ]; then
			echo "[SQLite3]"
			echo "Driver=$lib/libsqlite3odbc.so"
		fi
	} >"$ODBCSYSINI/odbcinst.ini"
	cat >"$ODBCINI" <<EOF
[legacy]
Driver=MariaDB
Server=127.0.0.1
Port=$MY_PORT
Database=cutover
EOF
	export MY_HAVE_SQLITE_ODBC=0
	[ -f "$lib/libsqlite3odbc.so" ] && MY_HAVE_SQLITE_ODBC=1
	return 0
}

my_listen() {
	local try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		MY_PORT=$((20000 + (RANDOM * 7 + $$ + try * 137) % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$MY_PORT") 2>/dev/null && continue
		mariadbd --no-defaults --datadir="$MY_DIR/data" \
		    --tmpdir="$MY_DIR/tmp" --socket="$MY_SOCKET" --port="$MY_PORT" \
		    --bind-address=127.0.0.1 ${MY_AS:+--user=$MY_AS} \
		    --pid-file="$MY_DIR/mariadbd.pid" --skip-log-bin \
		    --innodb-buffer-pool-size=32M --skip-name-resolve \
		    --log-error="$MY_DIR/server.log" >"$MY_DIR/stderr.log" 2>&1 &
		MY_PID=$!
		for _ in $(seq 1 300); do
			my_sql "SELECT 1" >/dev/null 2>&1 && return 0
			kill -0 "$MY_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$MY_PID" 2>/dev/null
		wait "$MY_PID" 2>/dev/null
		MY_PID=
	done
	echo "mariadb.sh: could not start MariaDB:" >&2
	tail -20 "$MY_DIR/server.log" >&2
	return 1
}

my_start() {
	command -v mariadbd >/dev/null || {
		echo "mariadb.sh: no mariadbd (apt-get install mariadb-server)" >&2
		return 1
	}
	my_pick_user || return 1
	MY_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cutover-my.XXXXXX") || return 1
	chmod 755 "$MY_DIR"
	mkdir "$MY_DIR/data" "$MY_DIR/tmp"
	[ -z "$MY_AS" ] || chown "$MY_AS" "$MY_DIR" "$MY_DIR/data" "$MY_DIR/tmp"
	MY_SOCKET=$MY_DIR/mysqld.sock
	trap 'my_stop; command -v cleanup >/dev/null && cleanup' EXIT
	trap 'exit 130' INT TERM
	mariadb-install-db --no-defaults --datadir="$MY_DIR/data" \
	    --tmpdir="$MY_DIR/tmp" ${MY_AS:+--user=$MY_AS} --auth-root-authentication-method=socket \
	    --skip-test-db >"$MY_DIR/install.log" 2>&1 || {
		echo "mariadb.sh: mariadb-install-db failed:" >&2
		tail -20 "$MY_DIR/install.log" >&2
		return 1
	}
	my_listen || return 1
	export MY_PORT MY_SOCKET MY_PASSWORD
	my_sql "CREATE DATABASE cutover CHARACTER SET utf8mb4;
	    CREATE USER 'cutover'@'127.0.0.1' IDENTIFIED BY '$MY_PASSWORD';
	    GRANT ALL ON *.* TO 'cutover'@'127.0.0.1';" || return 1
	my_odbc_register
}

my_stop() {
	[ -n "$MY_DIR" ] || return 0
	if [ -n "$MY_PID" ]; then
		kill -9 "$MY_PID" 2>/dev/null
		wait "$MY_PID" 2>/dev/null
		MY_PID=
	fi
	[ -n "${KEEP:-}" ] && { echo "kept $MY_DIR"; return 0; }
	rm -rf "$MY_DIR"
	MY_DIR=
}
