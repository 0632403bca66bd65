#!/bin/bash
# detail-fsync.sh - cost of `fsync = yes` in the detail module, on loopback.
#
#   bench/detail-fsync.sh            (needs the tsc build: npm run build)
#
# One tsradius process (thread.workers = 1) writes every Accounting-Request with `detail`;
# radload (../shared/bench/loadgen) keeps WINDOW requests in flight for DURATION seconds, with
# `fsync = no` and `fsync = yes` alternately for CYCLES cycles. Prints one line per run and the
# median req/s of each setting with their ratio. Environment: CYCLES 3, DURATION 10, WINDOW 64
# (and WINDOW1 = 1: a second series with one request in flight, where every record waits for
# its own sync), PORT 18252 (auth; accounting is PORT+1), DIR /tmp/tsr-fsync.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BENCH=${BENCH:-$here/../../shared/bench}
CYCLES=${CYCLES:-3}
DURATION=${DURATION:-10}
WINDOW=${WINDOW:-64}
WINDOW1=${WINDOW1:-1}
PORT=${PORT:-18252}
DIR=${DIR:-/tmp/tsr-fsync}
[ -x /tmp/radload/radload ] || "$BENCH/loadgen/build.sh" /tmp/radload >&2

run() { # $1 = yes|no, $2 = window → prints req/s
	local conf="$DIR/$1"
	AUTH_PORT=$PORT ACCT_PORT=$((PORT + 1)) WORKERS=1 ACCT_DETAIL=1 "$here/daemon/gen-config.sh" "$conf" >/dev/null
	sed -i "s|^\tdetail {|\tdetail {\n\t\tfsync = $1|" "$conf/radiusd.conf"
	node "$here/daemon/daemon.js" -d "$conf" -f >"$DIR/$1.out" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do grep -q 'Ready to process' "$DIR/$1.out" && break; sleep 0.1; done
	local out
	out=$(/tmp/radload/radload -p $((PORT + 1)) -t acct-start -w "$2" -d "$DURATION" -W 2 -P "$pid" -q || true)
	kill "$pid"; wait "$pid" 2>/dev/null || true
	local rps
	rps=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$out")
	echo "fsync=$1 window=$2 $out" >&2
	echo "${rps:-0}"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

mkdir -p "$DIR"
for w in "$WINDOW" "$WINDOW1"; do
	no=(); yes=()
	for ((c = 0; c < CYCLES; c++)); do
		no+=("$(run no "$w")")
		yes+=("$(run yes "$w")")
	done
	mno=$(printf '%s\n' "${no[@]}" | median)
	myes=$(printf '%s\n' "${yes[@]}" | median)
	echo "window $w: fsync=no ${mno} req/s, fsync=yes ${myes} req/s, yes/no = $(awk -v a="$myes" -v b="$mno" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')"
done
