#!/bin/sh
# bootstrap.sh - set up a Debian machine for cutover, build it, and either
# show the demo or run the whole test suite.
#
#   ./bootstrap.sh demo     install what is missing, build, run the demo
#   ./bootstrap.sh sandbox  the same, but start the demo's sandbox alone and
#                           print the environment to paste into another shell
#   ./bootstrap.sh check    install what is missing, build, run every test
#
# Packages are installed with apt-get (through sudo when not root).
set -eu
cd "$(dirname "$0")"

PACKAGES="autoconf automake make gcc pkg-config libncurses-dev libpq-dev
libssh2-1-dev libyaml-dev libsqlite3-dev libcmocka-dev libssl-dev sqlite3 jq
tmux mandoc postgresql openssh-server openssh-client procps libxml2-utils
chromium python3 zsh
iproute2 libcurl4-openssl-dev
libmicrohttpd-dev python3-prometheus-client wrk
unixodbc-dev unixodbc odbc-mariadb mariadb-server mariadb-client libsqliteodbc"

what=${1:-}
case $what in
demo | sandbox | check) ;;
*)
	echo "usage: ./bootstrap.sh demo|sandbox|check" >&2
	exit 2
	;;
esac

missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "bootstrap: installing:$missing"
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure
make -j"$(nproc)"

if [ "$what" = check ]; then
	if ! make -j"$(nproc)" check; then
		cat test-suite.log 2>/dev/null || true
		exit 1
	fi
	exit 0
fi
[ "$what" = sandbox ] && exec ./demo/run-demo.sh --sandbox
exec ./demo/run-demo.sh
