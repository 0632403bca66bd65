#!/bin/bash
# run.sh - tsradius against FreeRADIUS 3.2 with ../shared/bench/run-matrix.sh, side by side in one run.
#
#   bench/daemon/run.sh                  # everything below, in this order
#   PHASES="fr ours2" bench/daemon/run.sh
#
# Phases (each starts its server, runs the matrix, stops the server; one server under load at a time):
#   fr          FreeRADIUS (peer-freeradius.sh, ACCT_DETAIL=0)     label freeradius
#   ours2       tsradius, 2 cluster workers, accounting not written label tsradius-w2
#   ours1       tsradius, 1 process                                label tsradius-w1
#   frdetail    FreeRADIUS with ACCT_DETAIL=1, accounting only     label freeradius-detail
#   oursdetail  tsradius (2 workers) with detail, accounting only  label tsradius-w2-detail
#
# The phases run CYCLES times [3], each time with REPEATS=1, so that every server sees the same
# drift of the (shared) machine's load; bench/daemon/summarize.js takes the medians over the cycles
# and the ratios to FreeRADIUS.
#
# Environment: SHARED (../shared relative to the repo), DURATION [5], WARMUP [1], CYCLES [3], REPEATS [1],
# QUIET_WAIT [5], RETRIES [0] (the machine is shared; see docs/performance.md), OUTROOT [/tmp/radbench],
# PHASES, AUTH_PORT/ACCT_PORT for ours [18212/18213]. Raw results: $OUTROOT/cycle<N>/<label>/raw.txt;
# the merged table: $OUTROOT/summary.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SHARED=${SHARED:-$root/../shared}
BENCH=$SHARED/bench
export DURATION=${DURATION:-5} WARMUP=${WARMUP:-1} REPEATS=${REPEATS:-1}
CYCLES=${CYCLES:-3}
export QUIET_WAIT=${QUIET_WAIT:-5} RETRIES=${RETRIES:-0}
export OUTROOT=${OUTROOT:-/tmp/radbench}
PHASES=${PHASES:-fr ours2 ours1 frdetail oursdetail}
OUR_AUTH=${AUTH_PORT:-18212}
OUR_ACCT=${ACCT_PORT:-18213}
WORK=${WORK:-/tmp/tsrbench}

log() { echo "run.sh: $*" >&2; }

[ -f "$root/dist/main/radiusd.js" ] || (cd "$root" && npx tsc -p tsconfig.json)
[ -x /tmp/radload/radload ] || "$BENCH/loadgen/build.sh" /tmp/radload >&2

matrix() { # label auth_port acct_port pids [env...]
	local label=$1 ap=$2 cp=$3 pids=$4
	shift 4
	env "$@" LABEL="$label" AUTH_PORT="$ap" ACCT_PORT="$cp" PIDS="$pids" OUTDIR="$CYCLEDIR/$label" \
		"$BENCH/run-matrix.sh" >/dev/null
	log "$label done: $CYCLEDIR/$label/summary.md"
}

start_ours() { # workers detail -> sets OUR_PID, OUR_PIDS
	local dir=$WORK/raddb-w$1-d$2
	WORKERS=$1 ACCT_DETAIL=$2 AUTH_PORT=$OUR_AUTH ACCT_PORT=$OUR_ACCT "$here/gen-config.sh" "$dir" >/dev/null
	node "$here/daemon.js" -d "$dir" -f >"$WORK/radiusd-w$1-d$2.out" 2>&1 &
	OUR_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q 'Ready to process requests' "$dir/var/log/radius.log" 2>/dev/null &&
			{ [ "$1" = 1 ] || grep -q 'workers ready' "$dir/var/log/radius.log"; } && break
		sleep 0.2
	done
	OUR_PIDS=$(echo "$OUR_PID" $(pgrep -P "$OUR_PID") | tr ' ' ,)
	log "tsradius workers=$1 detail=$2 pids $OUR_PIDS"
}
stop_ours() { kill "$OUR_PID" 2>/dev/null || log "WARNING: tsradius (pid $OUR_PID) was no longer running; its results are void"; wait "$OUR_PID" 2>/dev/null || true; rm -rf "$WORK"/raddb-*/var/log/radacct; }

mkdir -p "$WORK" "$OUTROOT"
{ date -u; nproc; lscpu | grep 'Model name'; node --version; uptime; } >"$OUTROOT/machine.txt"
for ((cycle = 1; cycle <= CYCLES; cycle++)); do
CYCLEDIR=$OUTROOT/cycle$cycle
for ph in $PHASES; do
	case $ph in
	fr)
		pid=$("$BENCH/peer-freeradius.sh" start)
		matrix freeradius 18120 18130 "$pid"
		"$BENCH/peer-freeradius.sh" stop "$pid" ;;
	frdetail)
		pid=$(ACCT_DETAIL=1 "$BENCH/peer-freeradius.sh" start)
		matrix freeradius-detail 18120 18130 "$pid" WINDOWS=
		"$BENCH/peer-freeradius.sh" stop "$pid"
		rm -rf /tmp/frpeer/log/radacct ;;
	ours2) start_ours 2 0; matrix tsradius-w2 "$OUR_AUTH" "$OUR_ACCT" "$OUR_PIDS"; stop_ours ;;
	ours1) start_ours 1 0; matrix tsradius-w1 "$OUR_AUTH" "$OUR_ACCT" "$OUR_PIDS"; stop_ours ;;
	oursdetail) start_ours 2 1; matrix tsradius-w2-detail "$OUR_AUTH" "$OUR_ACCT" "$OUR_PIDS" WINDOWS=; stop_ours ;;
	*) log "unknown phase $ph"; exit 2 ;;
	esac
done
done
node "$here/summarize.js" "$OUTROOT" | tee "$OUTROOT/summary.md"
