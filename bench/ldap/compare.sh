#!/bin/bash
# compare.sh - LDAP authentication side by side: tsradius `ldap` vs FreeRADIUS 3.2 `rlm_ldap`, same slapd.
#
#   bench/ldap/compare.sh              (needs the tsc build: npx tsc -p .; Debian freeradius-ldap)
#   AUTH=bind bench/ldap/compare.sh    (Auth-Type ldap: user search, then a bind as the user)
#
# One slapd of our own (bench/ldap/slapd.ts: users user0001..userNNNN / pass0001.. with a cleartext
# userPassword and the five reply attributes radload checks, each in its own LDAP attribute) serves both
# servers. FreeRADIUS 3.2 runs the private config of ../shared/bench/peer-freeradius.sh with `files`
# replaced by `ldap` (mods-enabled/ldap written here); tsradius runs bench/daemon/gen-config.sh's config
# with `files` replaced by `ldap`. Both ask for the same six attributes with the same filter and scope.
#   AUTH=pap:  both map userPassword to the Password-With-Header control attribute and let `pap` check it
#              (one search per request).
#   AUTH=bind: no password is mapped; `recv`/authorize sets Auth-Type ldap after the user search and
#              `authenticate ldap` binds as the user (a search and a bind per request; FreeRADIUS 3.2 binds on
#              a connection of its one pool and binds it back as the admin before its next search, we bind
#              on the connections of `bind_pool`).
# radload (../shared/bench/loadgen) keeps WINDOW requests in flight for DURATION s, the two servers
# alternately (one under load at a time) for CYCLES cycles. `cpu_server` is the server's processes only
# (radload -P); slapd's CPU over the same run is read from /proc and printed beside it as cpu_slapd.
# Prints every RESULT line, the medians of each server and the ratios (req/s, p99, requests per
# server-CPU-second).
# Environment: AUTH pap, CYCLES 3, DURATION 10, WARMUP 2, WINDOW 64, USERS 1000, WORKERS 2 (tsradius
# thread.workers), THREADS 4 (FreeRADIUS), POOL 4 (LDAP search connections of each server in all: FreeRADIUS
# pool of POOL, tsradius POOL/WORKERS per worker), PER_CONN 256 (tsradius pool.per_connection_max),
# BIND_POOL 4 (tsradius bind connections per worker), PORT 18262 (tsradius auth; FreeRADIUS uses PORT+10),
# PREWARM 5 (s of unmeasured load on each server before the cycles), DIR /tmp/tsr-ldapbench, AB_ROOT (another
# checkout with its tsc build: a second tsradius, auth port PORT+20, driven after ours in every cycle; A/B of two builds;
# AB_NODE_ARGS its node options, default NODE_ARGS; AB_POOL its search connections in all, default POOL), TS_POOL (tsradius's
# search connections in all, default POOL: FreeRADIUS keeps POOL), NODE_ARGS (extra node options for tsradius, e.g. --perf-basic-prof), SLOW (ms: put the
# slow directory of bench/ldap/slapd.ts between the servers and slapd), HOLD (s: keep the servers up that long
# before the cycles, for a profiler or bench/ldap/inflight.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BENCH=${BENCH:-$root/../shared/bench}
AUTH=${AUTH:-pap}
CYCLES=${CYCLES:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
WINDOW=${WINDOW:-64}
USERS=${USERS:-1000}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-4}
POOL=${POOL:-4}
PER_CONN=${PER_CONN:-256}
BIND_POOL=${BIND_POOL:-4}
PORT=${PORT:-18262}
FR_PORT=$((PORT + 10))
DIR=${DIR:-/tmp/tsr-ldapbench}
NODE_ARGS=${NODE_ARGS:-}
case $AUTH in pap | bind) ;; *) echo "compare: AUTH is pap or bind" >&2; exit 1 ;; esac
[ -x /tmp/radload/radload ] || "$BENCH/loadgen/build.sh" /tmp/radload >&2
[ -e /usr/lib/freeradius/rlm_ldap.so ] || { echo "compare: needs Debian freeradius-ldap" >&2; exit 1; }
[ -f "$root/dist/bench/ldap/slapd.js" ] || { echo "compare: build first (npx tsc -p .)" >&2; exit 1; }

rm -rf "$DIR"
mkdir -p "$DIR"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# --- the directory
node "$root/dist/bench/ldap/slapd.js" "$USERS" "${SLOW:-0}" >"$DIR/slapd.out" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q '^PORT ' "$DIR/slapd.out" && break; sleep 0.1; done
LPORT=$(sed -n 's/^PORT //p' "$DIR/slapd.out")
SLAPD_PID=$(sed -n 's/^PID //p' "$DIR/slapd.out")
[ -n "$LPORT" ] || { cat "$DIR/slapd.out" >&2; exit 1; }
echo "slapd on 127.0.0.1:$LPORT (pid $SLAPD_PID)" >&2

# --- FreeRADIUS 3.2 with rlm_ldap
FR=$DIR/fr
FRPEER_DIR=$FR AUTH_PORT=$FR_PORT ACCT_PORT=$((FR_PORT + 1)) USERS=1 THREADS=$THREADS "$BENCH/peer-freeradius.sh" config >&2
fr_password="control:Password-With-Header += 'userPassword'"
[ "$AUTH" = bind ] && fr_password="# AUTH=bind: no password mapped, Auth-Type ldap binds as the user"
cat >"$FR/raddb/mods-enabled/ldap" <<CONF
ldap {
	server = '127.0.0.1'
	port = $LPORT
	identity = 'cn=admin,dc=example,dc=com'
	password = secret
	base_dn = 'dc=example,dc=com'
	update {
		$fr_password
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
python3 - "$FR/raddb/sites-available/peer" "$AUTH" <<'PY'
import sys
# peer-freeradius.sh writes its site without indentation.
p, auth = sys.argv[1], sys.argv[2]
s = open(p).read()
if auth == 'pap':
    s = s.replace("\nfiles\n", "\nldap\n", 1)
else:
    s = s.replace("\nfiles\npap\n", "\nldap\nif ((ok || updated) && User-Password && !control:Auth-Type) {\n"
                  "update control {\nAuth-Type := ldap\n}\n}\n", 1)
    s = s.replace("\nAuth-Type PAP {\n", "\nAuth-Type LDAP {\nldap\n}\nAuth-Type PAP {\n", 1)
open(p, "w").write(s)
PY
grep -q '^ldap$' "$FR/raddb/sites-available/peer" || { echo "compare: could not patch the FreeRADIUS site" >&2; exit 1; }
freeradius -C -d "$FR/raddb" >"$FR/check.log" 2>&1 || { tail -20 "$FR/check.log" >&2; exit 1; }
freeradius -f -d "$FR/raddb" >"$FR/stdout.log" 2>&1 </dev/null &
FR_PID=$!
pids+=("$FR_PID")

# --- tsradius with the ldap module
ts_config() { # $1 dir, $2 auth port, $3 search connections in all (default POOL)
AUTH_PORT=$2 ACCT_PORT=$(($2 + 1)) WORKERS=$WORKERS USERS=1 "$root/bench/daemon/gen-config.sh" "$1" >/dev/null
python3 - "$1/radiusd.conf" "$LPORT" "${3:-$POOL}" "$WORKERS" "$PER_CONN" "$BIND_POOL" "$AUTH" <<'PY'
import sys
p, port, pool, workers, per_conn, bind_pool, auth = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6]), sys.argv[7]
conns = max(1, pool // max(1, workers))
password = "control.Password.With-Header += 'userPassword'" if auth == 'pap' else "# AUTH=bind: no password mapped"
s = open(p).read()
ldap = f"""	ldap {{
		server = 'ldap://127.0.0.1:{port}'
		identity = 'cn=admin,dc=example,dc=com'
		password = secret
		base_dn = 'dc=example,dc=com'
		update {{
			{password}
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
		options {{
			res_timeout = 10
			srv_timelimit = 3
			net_timeout = 1
		}}
		pool {{
			start = {conns}
			min = {conns}
			max = {conns}
			per_connection_max = {per_conn}
		}}
		bind_pool {{
			start = {bind_pool if auth == 'bind' else 0}
			min = {bind_pool if auth == 'bind' else 0}
			max = {max(1, bind_pool)}
		}}
	}}
"""
s = s.replace("modules {\n", "modules {\n" + ldap, 1)
if auth == 'pap':
    s = s.replace("\trecv Access-Request {\n\t\tfiles\n", "\trecv Access-Request {\n\t\tldap\n", 1)
else:
    s = s.replace("\trecv Access-Request {\n\t\tfiles\n\t\tpap\n",
                  "\trecv Access-Request {\n\t\tldap\n\t\tif ((ok || updated) && User-Password && !control.Auth-Type) {\n"
                  "\t\t\tcontrol.Auth-Type := ldap\n\t\t}\n", 1)
    s = s.replace("\tauthenticate pap {\n", "\tauthenticate ldap {\n\t\tldap\n\t}\n\n\tauthenticate pap {\n", 1)
open(p, "w").write(s)
PY
grep -qP '^\t\tldap$' "$1/radiusd.conf" || { echo "compare: could not patch $1/radiusd.conf" >&2; exit 1; }
}
TS=$DIR/ts
ts_config "$TS" "$PORT" "${TS_POOL:-$POOL}"
# shellcheck disable=SC2086
node $NODE_ARGS "$root/bench/daemon/daemon.js" -d "$TS" -f >"$TS/out.log" 2>&1 &
TS_PID=$!
pids+=("$TS_PID")
# AB_ROOT: a second tsradius from another checkout's build (same config, auth port PORT+20), driven after ours
# in every cycle; its ratios to ours are printed as well (an A/B of two builds against the same directory).
if [ -n "${AB_ROOT:-}" ]; then
	AB_PORT=$((PORT + 20))
	ts_config "$DIR/ab" "$AB_PORT" "${AB_POOL:-$POOL}"
	# shellcheck disable=SC2086
	node ${AB_NODE_ARGS-$NODE_ARGS} "$AB_ROOT/bench/daemon/daemon.js" -d "$DIR/ab" -f >"$DIR/ab/out.log" 2>&1 &
	AB_PID=$!
	pids+=("$AB_PID")
fi

ready() { # $1 port
	for _ in $(seq 200); do
		echo 'User-Name = "user0001", User-Password = "pass0001"' | radclient -q -r 1 -t $((${SLOW:-0} / 1000 + 1)) "127.0.0.1:$1" auth testing123 >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
ready "$FR_PORT" || { echo "FreeRADIUS did not answer" >&2; tail -20 "$FR/stdout.log" >&2; exit 1; }
ready "$PORT" || { echo "tsradius did not answer" >&2; tail -20 "$TS/out.log" >&2; exit 1; }
if [ -n "${AB_ROOT:-}" ]; then
	ready "$AB_PORT" || { echo "tsradius ($AB_ROOT) did not answer" >&2; tail -20 "$DIR/ab/out.log" >&2; exit 1; }
	AB_PIDS=$(pgrep -P "$AB_PID" | paste -sd, - || true)
	AB_PIDS=${AB_PIDS:+$AB_PID,$AB_PIDS}
	AB_PIDS=${AB_PIDS:-$AB_PID}
fi
# tsradius with workers: every process of the cluster counts.
TS_PIDS=$(pgrep -P "$TS_PID" | paste -sd, - || true)
TS_PIDS=${TS_PIDS:+$TS_PID,$TS_PIDS}
TS_PIDS=${TS_PIDS:-$TS_PID}
echo "FreeRADIUS pid $FR_PID, tsradius pids $TS_PIDS, AUTH=$AUTH" >&2
if [ -n "${HOLD:-}" ]; then
	echo "HOLD: servers up (tsradius :$PORT, FreeRADIUS :$FR_PORT, slapd pid $SLAPD_PID); sleeping $HOLD s" >&2
	sleep "$HOLD" &
	wait $! || true
fi

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
run() { # $1 label, $2 port, $3 pids → prints "rps p99 cpu_server cpu_slapd"
	local out t0 t1 s0 s1 slapd
	s0=$(date +%s.%N); t0=$(ticks "$SLAPD_PID")
	out=$(/tmp/radload/radload -p "$2" -t auth -w "$WINDOW" -d "$DURATION" -W "$WARMUP" -u "$USERS" -P "$3" -l "$1" -q || true)
	t1=$(ticks "$SLAPD_PID"); s1=$(date +%s.%N)
	slapd=$(awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v hz="$HZ" 'BEGIN {printf "%.1f", 100 * (b - a) / hz / (e - s)}')
	echo "$out cpu_slapd=$slapd" >&2
	echo "$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$out") $(sed -n 's/.* p99_us=\([0-9.]*\).*/\1/p' <<<"$out") $(sed -n 's/.* cpu_server=\([0-9.]*\).*/\1/p' <<<"$out") $slapd"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# Warm both up once, unmeasured (PREWARM s each): V8 compiles our LDAP path during the first seconds of load.
if [ "${PREWARM:-5}" != 0 ] && [ "$CYCLES" != 0 ]; then
	/tmp/radload/radload -p "$FR_PORT" -t auth -w "$WINDOW" -d "${PREWARM:-5}" -W 0 -u "$USERS" -q -l prewarm >/dev/null || true
	/tmp/radload/radload -p "$PORT" -t auth -w "$WINDOW" -d "${PREWARM:-5}" -W 0 -u "$USERS" -q -l prewarm >/dev/null || true
	[ -z "${AB_ROOT:-}" ] || /tmp/radload/radload -p "$AB_PORT" -t auth -w "$WINDOW" -d "${PREWARM:-5}" -W 0 -u "$USERS" -q -l prewarm >/dev/null || true
fi
ab_rps=(); ab_p99=(); ab_pcs=()
ts_rps=(); ts_p99=(); ts_cpu=(); ts_slapd=(); ts_pcs=(); fr_rps=(); fr_p99=(); fr_cpu=(); fr_slapd=(); fr_pcs=()
pcs() { awk -v r="$1" -v c="$2" 'BEGIN {printf "%.0f", (c > 0) ? r / (c / 100) : 0}'; }
for ((c = 0; c < CYCLES; c++)); do
	read -r r p u s < <(run "freeradius-rlm_ldap-$AUTH" "$FR_PORT" "$FR_PID")
	fr_rps+=("${r:-0}"); fr_p99+=("${p:-0}"); fr_cpu+=("${u:-0}"); fr_slapd+=("${s:-0}"); fr_pcs+=("$(pcs "${r:-0}" "${u:-0}")")
	read -r r p u s < <(run "tsradius-ldap-$AUTH" "$PORT" "$TS_PIDS")
	ts_rps+=("${r:-0}"); ts_p99+=("${p:-0}"); ts_cpu+=("${u:-0}"); ts_slapd+=("${s:-0}"); ts_pcs+=("$(pcs "${r:-0}" "${u:-0}")")
	if [ -n "${AB_ROOT:-}" ]; then
		read -r r p u s < <(run "tsradius-AB_ROOT-ldap-$AUTH" "$AB_PORT" "$AB_PIDS")
		ab_rps+=("${r:-0}"); ab_p99+=("${p:-0}"); ab_pcs+=("$(pcs "${r:-0}" "${u:-0}")")
	fi
done
m() { printf '%s\n' "$@" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }
# Paired ratios (each cycle's tsradius run against the FreeRADIUS run just before it), then their median.
pr=(); pp=(); pc=()
for ((c = 0; c < CYCLES; c++)); do
	pr+=("$(ratio "${ts_rps[c]}" "${fr_rps[c]}")"); pp+=("$(ratio "${ts_p99[c]}" "${fr_p99[c]}")"); pc+=("$(ratio "${ts_pcs[c]}" "${fr_pcs[c]}")")
done
fr=$(m "${fr_rps[@]}"); ts=$(m "${ts_rps[@]}")
echo "AUTH=$AUTH window $WINDOW, $CYCLES cycles of ${DURATION}s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  FreeRADIUS 3.2 rlm_ldap: ${fr} req/s, p99 $(m "${fr_p99[@]}") µs, cpu_server $(m "${fr_cpu[@]}") %, cpu_slapd $(m "${fr_slapd[@]}") %, $(m "${fr_pcs[@]}") req per server-CPU-s"
echo "  tsradius ldap:           ${ts} req/s, p99 $(m "${ts_p99[@]}") µs, cpu_server $(m "${ts_cpu[@]}") %, cpu_slapd $(m "${ts_slapd[@]}") %, $(m "${ts_pcs[@]}") req per server-CPU-s"
echo "  tsradius/FreeRADIUS (median of paired cycles): req/s $(m "${pr[@]}") [${pr[*]}], p99 $(m "${pp[@]}") [${pp[*]}], per server-CPU-s $(m "${pc[@]}") [${pc[*]}]"
if [ -n "${AB_ROOT:-}" ]; then
	ar=(); ap=(); ac=()
	for ((c = 0; c < CYCLES; c++)); do
		ar+=("$(ratio "${ts_rps[c]}" "${ab_rps[c]}")"); ap+=("$(ratio "${ts_p99[c]}" "${ab_p99[c]}")"); ac+=("$(ratio "${ts_pcs[c]}" "${ab_pcs[c]}")")
	done
	echo "  tsradius AB_ROOT ($AB_ROOT): $(m "${ab_rps[@]}") req/s, p99 $(m "${ab_p99[@]}") µs, $(m "${ab_pcs[@]}") req per server-CPU-s"
	echo "  tsradius/AB_ROOT (median of paired cycles): req/s $(m "${ar[@]}") [${ar[*]}], p99 $(m "${ap[@]}") [${ap[*]}], per server-CPU-s $(m "${ac[@]}") [${ac[*]}]"
fi
