#!/bin/bash
# ldap-pap.sh - PAP with an LDAP user search: tsradius `ldap` vs FreeRADIUS 3.2 `rlm_ldap`, same slapd.
#
#   bench/ldap-pap.sh              (needs the tsc build: npm run build; Debian freeradius-ldap)
#
# One slapd of our own (bench/ldap/slapd.ts: users user0001..userNNNN / pass0001.. with a cleartext
# userPassword and the five reply attributes radload checks, each in its own LDAP attribute) serves both
# servers. FreeRADIUS 3.2 runs the private config of ../shared/bench/peer-freeradius.sh with `files`
# replaced by `ldap` (mods-enabled/ldap written here); tsradius runs bench/daemon/gen-config.sh's config
# with `files` replaced by `ldap`. Both map userPassword to the Password-With-Header control attribute and
# let `pap` check it. radload (../shared/bench/loadgen) keeps WINDOW requests in flight for DURATION s,
# the two servers alternately (one under load at a time) for CYCLES cycles. Prints every RESULT line and
# the median req/s and p99 of each with the ratio.
# Environment: CYCLES 3, DURATION 10, WARMUP 2, WINDOW 64, USERS 1000, WORKERS 2 (tsradius thread.workers),
# THREADS 4 (FreeRADIUS), POOL 4 (LDAP connections per server process), PORT 18262 (tsradius auth;
# FreeRADIUS uses PORT+10), DIR /tmp/tsr-ldapbench.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BENCH=${BENCH:-$root/../shared/bench}
CYCLES=${CYCLES:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
WINDOW=${WINDOW:-64}
USERS=${USERS:-1000}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-4}
POOL=${POOL:-4}
PORT=${PORT:-18262}
FR_PORT=$((PORT + 10))
DIR=${DIR:-/tmp/tsr-ldapbench}
[ -x /tmp/radload/radload ] || "$BENCH/loadgen/build.sh" /tmp/radload >&2
[ -e /usr/lib/freeradius/rlm_ldap.so ] || { echo "ldap-pap: needs Debian freeradius-ldap" >&2; exit 1; }
[ -f "$root/dist/bench/ldap/slapd.js" ] || { echo "ldap-pap: build first (npx tsc -p .)" >&2; exit 1; }

rm -rf "$DIR"
mkdir -p "$DIR"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# --- the directory
node "$root/dist/bench/ldap/slapd.js" "$USERS" >"$DIR/slapd.out" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q '^PORT ' "$DIR/slapd.out" && break; sleep 0.1; done
LPORT=$(sed -n 's/^PORT //p' "$DIR/slapd.out")
SLAPD_PID=$(sed -n 's/^PID //p' "$DIR/slapd.out")
[ -n "$LPORT" ] || { cat "$DIR/slapd.out" >&2; exit 1; }
echo "slapd on 127.0.0.1:$LPORT (pid $SLAPD_PID)" >&2

# --- FreeRADIUS 3.2 with rlm_ldap
FR=$DIR/fr
FRPEER_DIR=$FR AUTH_PORT=$FR_PORT ACCT_PORT=$((FR_PORT + 1)) USERS=1 THREADS=$THREADS "$BENCH/peer-freeradius.sh" config >&2
cat >"$FR/raddb/mods-enabled/ldap" <<CONF
ldap {
	server = '127.0.0.1'
	port = $LPORT
	identity = 'cn=admin,dc=example,dc=com'
	password = secret
	base_dn = 'dc=example,dc=com'
	update {
		control:Password-With-Header += 'userPassword'
		reply:Framed-IP-Address := 'benchFramedIPAddress'
		reply:Session-Timeout := 'benchSessionTimeout'
		reply:Idle-Timeout := 'benchIdleTimeout'
		reply:Actual-Data-Rate-Upstream := 'benchRateUp'
		reply:Actual-Data-Rate-Downstream := 'benchRateDown'
	}
	user {
		base_dn = "ou=people,\${..base_dn}"
		filter = "(uid=%{%{Stripped-User-Name}:-%{User-Name}})"
		scope = 'sub'
	}
	options {
		chase_referrals = no
		res_timeout = 10
		srv_timelimit = 3
		net_timeout = 1
	}
	pool {
		start = $POOL
		min = $POOL
		max = $POOL
		spare = 0
		uses = 0
		lifetime = 0
		idle_timeout = 0
	}
}
CONF
sed -i 's/^files$/ldap/' "$FR/raddb/sites-available/peer"
freeradius -C -d "$FR/raddb" >"$FR/check.log" 2>&1 || { tail -20 "$FR/check.log" >&2; exit 1; }
freeradius -f -d "$FR/raddb" >"$FR/stdout.log" 2>&1 </dev/null &
FR_PID=$!
pids+=("$FR_PID")

# --- tsradius with the ldap module
TS=$DIR/ts
AUTH_PORT=$PORT ACCT_PORT=$((PORT + 1)) WORKERS=$WORKERS USERS=1 "$here/daemon/gen-config.sh" "$TS" >/dev/null
python3 - "$TS/radiusd.conf" "$LPORT" "$POOL" <<'PY'
import sys
p, port, pool = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = open(p).read()
ldap = f"""	ldap {{
		server = 'ldap://127.0.0.1:{port}'
		identity = 'cn=admin,dc=example,dc=com'
		password = secret
		base_dn = 'dc=example,dc=com'
		update {{
			control.Password.With-Header += 'userPassword'
			reply.Framed-IP-Address := 'benchFramedIPAddress'
			reply.Session-Timeout := 'benchSessionTimeout'
			reply.Idle-Timeout := 'benchIdleTimeout'
			reply.Actual-Data-Rate-Upstream := 'benchRateUp'
			reply.Actual-Data-Rate-Downstream := 'benchRateDown'
		}}
		user {{
			base_dn = "ou=people,${{..base_dn}}"
			filter = "(uid=%{{Stripped-User-Name || User-Name}})"
			scope = sub
		}}
		pool {{
			start = {max(1, pool // 2)}
			min = {max(1, pool // 2)}
			max = {max(1, pool // 2)}
		}}
	}}
"""
s = s.replace("modules {\n", "modules {\n" + ldap, 1)
s = s.replace("\trecv Access-Request {\n\t\tfiles\n", "\trecv Access-Request {\n\t\tldap\n", 1)
open(p, "w").write(s)
PY
grep -qP '^\t\tldap$' "$TS/radiusd.conf" || { echo "ldap-pap: could not patch $TS/radiusd.conf" >&2; exit 1; }
node "$here/daemon/daemon.js" -d "$TS" -f >"$TS/out.log" 2>&1 &
TS_PID=$!
pids+=("$TS_PID")

ready() { # $1 port
	for _ in $(seq 200); do
		echo 'User-Name = "user0001", User-Password = "pass0001"' | radclient -q -r 1 -t 1 "127.0.0.1:$1" auth testing123 >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
ready "$FR_PORT" || { echo "FreeRADIUS did not answer" >&2; tail -20 "$FR/stdout.log" >&2; exit 1; }
ready "$PORT" || { echo "tsradius did not answer" >&2; tail -20 "$TS/out.log" >&2; exit 1; }
# tsradius with workers: every process of the cluster counts.
TS_PIDS=$(pgrep -P "$TS_PID" | paste -sd, - || true)
TS_PIDS=${TS_PIDS:+$TS_PID,$TS_PIDS}
TS_PIDS=${TS_PIDS:-$TS_PID}

run() { # $1 label, $2 port, $3 pids → prints "rps p99"
	local out
	out=$(/tmp/radload/radload -p "$2" -t auth -w "$WINDOW" -d "$DURATION" -W "$WARMUP" -u "$USERS" -P "$3,$SLAPD_PID" -l "$1" -q || true)
	echo "$out" >&2
	echo "$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$out") $(sed -n 's/.* p99_us=\([0-9.]*\).*/\1/p' <<<"$out")"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

ts_rps=(); ts_p99=(); fr_rps=(); fr_p99=()
for ((c = 0; c < CYCLES; c++)); do
	read -r r p < <(run freeradius-rlm_ldap "$FR_PORT" "$FR_PID"); fr_rps+=("${r:-0}"); fr_p99+=("${p:-0}")
	read -r r p < <(run tsradius-ldap "$PORT" "$TS_PIDS"); ts_rps+=("${r:-0}"); ts_p99+=("${p:-0}")
done
m() { printf '%s\n' "$@" | median; }
fr=$(m "${fr_rps[@]}"); ts=$(m "${ts_rps[@]}")
echo "window $WINDOW, $CYCLES cycles of ${DURATION}s: FreeRADIUS 3.2 rlm_ldap ${fr} req/s (p99 $(m "${fr_p99[@]}") µs), tsradius ldap ${ts} req/s (p99 $(m "${ts_p99[@]}") µs), tsradius/FreeRADIUS = $(awk -v a="$ts" -v b="$fr" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')"
