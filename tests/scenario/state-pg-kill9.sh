#!/bin/bash
# state-pg-kill9.sh - kill9.sh on the PostgreSQL store: kill -9 the driver
# at random moments, at least 50 times while a step's child process is
# still running (and more in all), over runs of 32 steps, and prove after
# every resume that:
#  - no step ran twice (each appends "RUN STEP" to a ledger exactly once),
#  - nothing recorded was lost (every step recorded succeeded is in the
#    ledger, and the set of succeeded steps only grows),
#  - the audit chain in the database verifies.
. "$(dirname "$0")/../lib.sh"
. "$SRCDIR/tests/pg.sh"
pg_start || { echo "state-pg-kill9.sh: no PostgreSQL server" >&2; exit 1; }

state="postgresql://cutover@127.0.0.1:$PGPORT/cutover"
K9_NAME=pgkill9
MID=50
# The audit chain in the database verifies after every kill (a driver
# killed before it made the schema left nothing to verify).
store_ok() {
	if "$CUTOVER" --state "$state" audit "$rb" --verify >/dev/null \
	    2>"$T/verify.err"; then ok
	elif [ ! -s "$LEDGER" ] &&
	    grep -q "no cutover schema in this database yet" "$T/verify.err"; then
		ok
	else
		fail "audit --verify after kill $kills: $(cat "$T/verify.err")"
	fi
}
. "$SRCDIR/tests/kill9-loop.sh"
finish
