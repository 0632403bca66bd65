#!/bin/bash
# rss.sh - memory of every tsradius process under a long closed-loop load.
#
#   bench/daemon/rss.sh            # auth, window 64, 360 s, 2 workers, RSS sampled every 5 s
#
# Environment: DURATION [360] seconds of load, WINDOW [64], TYPE [auth], WORKERS [2],
# ACCT_DETAIL [0], INTERVAL [5] seconds between samples, OUT [/tmp/tsrbench/rss].
# Writes $OUT/rss.csv (t_s,pid,rss_kib per line), $OUT/radload.txt, and prints a summary:
# RSS per process at the start (idle), after 30 s of load, at the end of the load, and after it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DURATION=${DURATION:-360}
WINDOW=${WINDOW:-64}
TYPE=${TYPE:-auth}
WORKERS=${WORKERS:-2}
ACCT_DETAIL=${ACCT_DETAIL:-0}
INTERVAL=${INTERVAL:-5}
OUT=${OUT:-/tmp/tsrbench/rss}
AUTH_PORT=${AUTH_PORT:-18212}
ACCT_PORT=${ACCT_PORT:-18213}
mkdir -p "$OUT"
dir=$OUT/raddb
WORKERS=$WORKERS ACCT_DETAIL=$ACCT_DETAIL AUTH_PORT=$AUTH_PORT ACCT_PORT=$ACCT_PORT "$here/gen-config.sh" "$dir" >/dev/null
node "$here/daemon.js" -d "$dir" -f >"$OUT/daemon.out" 2>&1 &
pid=$!
for ((i = 0; i < 100; i++)); do
	grep -q 'Ready to process requests' "$dir/var/log/radius.log" 2>/dev/null &&
		{ [ "$WORKERS" = 1 ] || grep -q 'workers ready' "$dir/var/log/radius.log"; } && break
	sleep 0.2
done
pids="$pid $(pgrep -P "$pid" | tr '\n' ' ')"
echo "pids: $pids" >&2
: >"$OUT/rss.csv"
t0=$(date +%s)
sample() { local p now; now=$(($(date +%s) - t0)); for p in $pids; do echo "$now,$p,$(awk '/^VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)"; done >>"$OUT/rss.csv"; }
sample
( while kill -0 "$pid" 2>/dev/null; do sleep "$INTERVAL"; sample; done ) &
sampler=$!
sleep 5
port=$AUTH_PORT; [ "$TYPE" = auth ] || port=$ACCT_PORT
/tmp/radload/radload -q -p "$port" -t "$TYPE" -w "$WINDOW" -d "$DURATION" -W 0 -P "$(echo $pids | tr ' ' ,)" | tee "$OUT/radload.txt" ||
	echo "rss.sh: radload reported timeouts or errors (see its RESULT line)" >&2
sleep 15
kill "$sampler" 2>/dev/null || true
kill "$pid"; wait "$pid" 2>/dev/null || true
rm -rf "$dir/var/log/radacct"
# summary: per pid, RSS (MiB) at the first sample, ~30 s into the load, the last sample under load, the last sample
awk -F, -v load_end=$((DURATION + 5)) '
{ t[$2, ++n[$2]] = $1; r[$2, n[$2]] = $3; if (!($2 in seen)) { seen[$2] = 1; order[++np] = $2 } }
END {
	printf "| pid | idle MiB | after 30 s MiB | end of load MiB | 15 s after MiB | max MiB |\n|---:|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= np; i++) {
		p = order[i]; a = r[p, 1]; w = a; e = a; mx = 0
		for (j = 1; j <= n[p]; j++) { if (t[p, j] <= 35) w = r[p, j]; if (t[p, j] <= load_end) e = r[p, j]; if (r[p, j] > mx) mx = r[p, j] }
		printf "| %s | %.1f | %.1f | %.1f | %.1f | %.1f |\n", p, a / 1024, w / 1024, e / 1024, r[p, n[p]] / 1024, mx / 1024
	}
}' "$OUT/rss.csv" | tee "$OUT/summary.md"
