# sandbox.sh - the demo sandbox (sourced by bash): a local PostgreSQL with a
# small "legacy" and "odoo" database, and a local sshd standing in for the
# legacy and Odoo application servers, all in one temporary directory.
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
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
