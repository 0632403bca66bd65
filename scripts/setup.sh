#!/usr/bin/env bash
# setup.sh: everything `npm test` needs on a fresh machine.
#   1. npm dependencies (npm ci when the lock file is present)
#   2. Debian packages used by the interop tests, installed with apt-get when
#      missing and we are root (FreeRADIUS 3.2 as a real peer, radclient/radtest,
#      the PostgreSQL server binaries that the sql tests run privately,
#      OpenLDAP slapd + ldap-utils for the ldap module's own directories)
# It is idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules/.bin ] || [ package.json -nt node_modules/.package-lock.json ] ||
	{ [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
	echo "setup: installing npm dependencies" >&2
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund >&2; else npm install --no-audit --no-fund >&2; fi
fi

need=()
command -v radclient >/dev/null 2>&1 || need+=(freeradius-utils)
command -v freeradius >/dev/null 2>&1 || need+=(freeradius)
# The sql tests initdb their own server (test/support/postgres.ts); they never use the system one.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || need+=(ldap-utils)
[ -e /usr/lib/freeradius/rlm_ldap.so ] || need+=(freeradius-ldap)  # bench/ldap-pap.sh: FreeRADIUS 3.2 rlm_ldap as the peer
[ -e /usr/lib/freeradius/rlm_sql_postgresql.so ] || need+=(freeradius-postgresql)  # bench/sql: FreeRADIUS 3.2 rlm_sql_postgresql as the peer
# The redis_ippool tests start their own redis-server and cluster (test/support/redis.ts).
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
# The admin dashboard test (test/dac/dashboard.test.ts) drives headless Chromium.
[ -x /usr/bin/chromium ] || need+=(chromium)
# pppoe_dpdk wire tests: rp-pppoe's client on the host, a real pppd inside user-mode Linux (no kernel PPP here).
command -v pppoe >/dev/null 2>&1 || need+=(pppoe)
[ -x /usr/sbin/pppd ] || need+=(ppp)
command -v linux.uml >/dev/null 2>&1 || need+=(user-mode-linux)
command -v insmod >/dev/null 2>&1 || need+=(kmod)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "setup: installing Debian packages: ${need[*]}" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		# policy-rc.d keeps the packaged service from starting where it can;
		# our tests never use the system instance or its ports.
		apt-get install -y -q --no-install-recommends "${need[@]}" >&2
		# The package may start the system daemon on 1812/1813; stop it so
		# that tests own the loopback ports they pick.
		if command -v service >/dev/null 2>&1; then service freeradius stop >/dev/null 2>&1 || true; fi
		pidfile=/var/run/freeradius/freeradius.pid
		if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" >/dev/null 2>&1 || true; fi
		# Likewise the packaged slapd: the ldap tests start their own (test/support/slapd.ts).
		if command -v service >/dev/null 2>&1; then service slapd stop >/dev/null 2>&1 || true; fi
		if command -v update-rc.d >/dev/null 2>&1; then update-rc.d slapd disable >/dev/null 2>&1 || true; fi
	else
		echo "setup: missing ${need[*]} and not root: interop tests will fail" >&2
	fi
fi

# The optional native UDP addon (core/native/udp): the suite runs on it, and once more on the
# node:dgram fallback (scripts/test.sh). A missing toolchain only means the fallback is tested.
if [ ! -f core/native/udp/build/Release/tsradius_udp.node ] || [ core/native/udp/src/udp.c -nt core/native/udp/build/Release/tsradius_udp.node ]; then
	echo "setup: building the native UDP addon" >&2
	node scripts/build-native.js >/dev/null 2>&1 || echo "setup: native UDP addon not built; the dgram fallback is used" >&2
fi
# The raw Ethernet addon of pppoe_dpdk's wire (no fallback: its tests fail loudly when it cannot be built).
if [ ! -f modules/pppoe_dpdk/native/build/Release/tsradius_packet.node ] || [ modules/pppoe_dpdk/native/src/packet.c -nt modules/pppoe_dpdk/native/build/Release/tsradius_packet.node ]; then
	echo "setup: building the native addons (raw Ethernet)" >&2
	node scripts/build-native.js >/dev/null 2>&1 || echo "setup: an addon failed to build (run node scripts/build-native.js to see why)" >&2
fi
