#!/bin/bash
# inflight.sh - in-flight capacity against a slow directory (issue 14 §4, seed 002 §3-4): WINDOW concurrent
# PAP lookups (default 2000) through tsradius `ldap` to a directory that takes DELAY ms per search, for
# DURATION s. Passes when every request is answered (no timeout, no error, every reply attribute present)
# and the memory of the tsradius processes stays flat (RSS sampled every INTERVAL s).
#
#   bench/ldap/inflight.sh        (needs the tsc build and Debian freeradius-ldap, as bench/ldap/compare.sh)
#
# The servers come from bench/ldap/compare.sh (HOLD mode, SLOW=DELAY: the proxy of test/support/slow-ldap.ts
# holds every search for DELAY ms in front of the bench slapd). tsradius: WORKERS workers, POOL search
# connections in all, PER_CONN operations in flight per connection (default 2 × 4 × 256 = 2048 >= 2000).
# FreeRADIUS 3.2 is measured too, for FR_DURATION s at the same window: its rlm_ldap holds a thread for
# every lookup, so it can have at most THREADS lookups in flight.
# Environment: WINDOW 2000, DELAY 1500, DURATION 40, WARMUP 5, INTERVAL 2, WORKERS 2, POOL 8, PER_CONN 256,
# THREADS 4, FR_DURATION 10 (0: skip FreeRADIUS), DIR /tmp/tsr-ldapinflight, PORT 18362.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
WINDOW=${WINDOW:-2000}
DELAY=${DELAY:-1500}
DURATION=${DURATION:-40}
WARMUP=${WARMUP:-5}
INTERVAL=${INTERVAL:-2}
WORKERS=${WORKERS:-2}
POOL=${POOL:-8}
PER_CONN=${PER_CONN:-256}
THREADS=${THREADS:-4}
FR_DURATION=${FR_DURATION:-10}
DIR=${DIR:-/tmp/tsr-ldapinflight}
PORT=${PORT:-18362}
mkdir -p "$DIR"
log=$DIR/compare.log
rm -f "$log"
DIR=$DIR/servers PORT=$PORT SLOW=$DELAY HOLD=3600 CYCLES=0 WORKERS=$WORKERS POOL=$POOL PER_CONN=$PER_CONN THREADS=$THREADS \
	"$here/compare.sh" >"$log" 2>&1 &
cmp_pid=$!
trap 'kill "$cmp_pid" 2>/dev/null || true; wait "$cmp_pid" 2>/dev/null || true' EXIT
for _ in $(seq 900); do grep -q '^HOLD:' "$log" && break; kill -0 "$cmp_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }; sleep 0.2; done
grep -q '^HOLD:' "$log" || { cat "$log" >&2; exit 1; }
TS_PIDS=$(sed -n 's/.*tsradius pids \([0-9,]*\),.*/\1/p' "$log")
FR_PID=$(sed -n 's/^FreeRADIUS pid \([0-9]*\),.*/\1/p' "$log")
slapd_out=$DIR/servers/slapd.out
echo "tsradius pids $TS_PIDS, directory delay $DELAY ms, window $WINDOW, load average $(cut -d' ' -f1-3 /proc/loadavg)"

rss() { local t=0 p; for p in ${TS_PIDS//,/ }; do t=$((t + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status"))); done; echo "$t"; }
samples=$DIR/rss.txt
: >"$samples"
echo "RSS before load: $(rss) KiB (all tsradius processes)"
/tmp/radload/radload -p "$PORT" -t auth -w "$WINDOW" -d "$DURATION" -W "$WARMUP" -T $((DELAY * 4)) -P "$TS_PIDS" -l tsradius-inflight -q >"$DIR/radload.txt" &
load=$!
t=0
while kill -0 "$load" 2>/dev/null; do
	echo "$t $(rss) $(tail -1 "$slapd_out" | sed -n 's/^STAT //p')" >>"$samples"
	sleep "$INTERVAL"; t=$((t + INTERVAL))
done
wait "$load" || true
cat "$DIR/radload.txt"
echo "RSS (KiB) and the directory's counters every ${INTERVAL}s (t=0: load starts, warm-up ${WARMUP}s):"
cat "$samples"
# Flat memory: the median of the last third of the measured samples against the median of its first third.
awk -v w="$WARMUP" '
	$1 >= w + 2 { v[n++] = $2 }
	END {
		if (n < 6) { print "too few samples"; exit }
		k = int(n / 3)
		for (i = 0; i < k; i++) { a[i] = v[i]; b[i] = v[n - k + i] }
		asort(a); asort(b)
		printf "RSS first third median %d KiB, last third median %d KiB: %+.1f%%\n", a[int((k + 1) / 2)], b[int((k + 1) / 2)], 100 * (b[int((k + 1) / 2)] - a[int((k + 1) / 2)]) / a[int((k + 1) / 2)]
	}' "$samples"
sleep $(((DELAY + 999) / 1000 + 1))
echo "after the load: $(tail -1 "$slapd_out")"
if [ "$FR_DURATION" != 0 ]; then
	/tmp/radload/radload -p $((PORT + 10)) -t auth -w "$WINDOW" -d "$FR_DURATION" -W 2 -T $((DELAY * 4)) -P "$FR_PID" -l freeradius-inflight -q || true
fi
