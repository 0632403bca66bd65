#!/bin/bash
# sql.sh - the data layer against FreeRADIUS 3.2 (issue 12 §9), side by side in one run.
#
#   bench/daemon/sql.sh                          # every row, 3 cycles; table in $OUTROOT/summary.md
#   ROWS=acct-pg CYCLES=1 DURATION=5 bench/daemon/sql.sh
#
# Rows (each one a pair of servers; one server is loaded at a time):
#   acct-sqlite  Accounting Start/Interim-Update/Stop, driven by our load tester sandstorm (bin/sandstorm.js
#                -t acct: user N's Start, INTERIMS Interim-Updates and Stop in turn, so a session's records are
#                1000 requests apart, as from a NAS with many subscribers): tsradius `sql` into SQLite
#                (label tsradius-sqlite) against FreeRADIUS 3.2 with `detail` (freeradius-detail).
#   acct-pg      The same accounting into one private PostgreSQL, same schema: tsradius `sql`
#                (tsradius-pg-acct) against FreeRADIUS 3.2 rlm_sql_postgresql (freeradius-pg-acct).
#   auth-pg      Access-Request: `sql` authorize (radcheck/radreply/radusergroup) + pap + `sqlippool`
#                allocation at Access-Accept, on PostgreSQL (tsradius-pg-auth, freeradius-pg-auth), driven
#                by ../shared/bench's radload (run-matrix.sh) at AUTH_WINDOW.
#
# The database (bench/sql/pg.ts): our PostgreSQL schema (FreeRADIUS 3.2's columns), users user0001..1000
# in radcheck/radreply, a pool of POOL addresses in our fr_ippool and FreeRADIUS 3.2's radippool. radacct
# is truncated before every PostgreSQL accounting run; the SQLite file and the detail files are new for
# every run. Every server is started for its run and stopped after it. In each cycle the order of the two
# servers of a row alternates (FreeRADIUS first in odd cycles). For the PostgreSQL rows the server CPU
# (`req per server CPU-s`) includes the PostgreSQL processes (postmaster and its children).
#
# Environment [defaults]: ROWS [acct-sqlite acct-pg auth-pg], CYCLES [3], DURATION [10], WARMUP [5] (a new daemon
# JIT-compiles its hot paths in its first seconds),
# ACCT_WINDOW [64], INTERIMS [1] (per accounting session), AUTH_WINDOW [64], AUTH_WARMUP [25] (the auth-pg
# row's warm-up, both servers: at its few hundred requests per second per worker, 5 s leave our JIT still compiling the
# request path; see docs/performance.md, "Where the auth-pg row's CPU goes"), WORKERS [2] (tsradius), THREADS [4] (FreeRADIUS), POOL_CONNS
# [4] (SQL connections: FreeRADIUS's pool; per tsradius worker process), PG_BATCH [32] (tsradius
# postgresql { batch }: 1 sends one statement at a time, as before), POOL [4096] addresses,
# OUTROOT [/tmp/radbench-sql], DIR [/tmp/tsr-sqlbench], PORT [18232] (tsradius auth, +1 acct; FreeRADIUS
# PORT+10/+11). Needs the tsc build, Debian freeradius-postgresql and postgresql (scripts/setup.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SHARED=${SHARED:-$root/../shared}
BENCH=$SHARED/bench
ROWS=${ROWS:-acct-sqlite acct-pg auth-pg}
CYCLES=${CYCLES:-3}
export DURATION=${DURATION:-10} WARMUP=${WARMUP:-5} REPEATS=1 QUIET_WAIT=${QUIET_WAIT:-5} RETRIES=${RETRIES:-0}
ACCT_WINDOW=${ACCT_WINDOW:-64}
INTERIMS=${INTERIMS:-1}
ACCT_TYPE=acct-sessions
AUTH_WINDOW=${AUTH_WINDOW:-64}
AUTH_WARMUP=${AUTH_WARMUP:-25}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-4}
POOL_CONNS=${POOL_CONNS:-4}
PG_BATCH=${PG_BATCH:-32}
POOL=${POOL:-4096}
OUTROOT=${OUTROOT:-/tmp/radbench-sql}
DIR=${DIR:-/tmp/tsr-sqlbench}
PORT=${PORT:-18232}
FR_PORT=$((PORT + 10))
SQLCONF=$root/raddb/mods-config/sql

log() { echo "sql.sh: $*" >&2; }
[ -f "$root/dist/bench/sql/pg.js" ] || (cd "$root" && npx tsc -p tsconfig.json)
# radload (../shared/bench/loadgen, built by run-matrix.sh when missing) for the auth row.
export RADLOAD=${RADLOAD:-/tmp/radload/radload}
SANDSTORM=$root/bin/sandstorm.js
[ -e /usr/lib/freeradius/rlm_sql_postgresql.so ] || { log "needs Debian freeradius-postgresql (scripts/setup.sh)"; exit 1; }

rm -rf "$DIR" "$OUTROOT"
mkdir -p "$DIR" "$OUTROOT"
bg=()
cleanup() { for p in "${bg[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# --- the database (only when a PostgreSQL row runs)
PGPORT= PGPID=
if [[ " $ROWS " == *" acct-pg "* || " $ROWS " == *" auth-pg "* ]]; then
	node "$root/dist/bench/sql/pg.js" 1000 "$POOL" >"$DIR/pg.out" 2>&1 &
	bg+=($!)
	for _ in $(seq 300); do grep -q '^USER ' "$DIR/pg.out" && break; sleep 0.2; done
	PGPORT=$(sed -n 's/^PORT //p' "$DIR/pg.out")
	PGPID=$(sed -n 's/^PID //p' "$DIR/pg.out")
	[ -n "$PGPORT" ] || { cat "$DIR/pg.out" >&2; exit 1; }
	log "PostgreSQL on 127.0.0.1:$PGPORT (postmaster $PGPID)"
fi
psqlc() { psql -X -q -A -t -h 127.0.0.1 -p "$PGPORT" -U postgres -d radius -c "$1"; }
pg_pids() { [ "$1" != acct-sqlite ] && [ -n "$PGPID" ] && echo ",$PGPID,$(pgrep -P "$PGPID" | paste -sd, -)"; }

# --- FreeRADIUS 3.2 configurations (../shared/bench/peer-freeradius.sh's, then patched per row)
fr_config() { # row -> $DIR/fr-<row>/raddb
	local fr=$DIR/fr-$1 detail=0
	[ "$1" = acct-sqlite ] && detail=1
	FRPEER_DIR=$fr AUTH_PORT=$FR_PORT ACCT_PORT=$((FR_PORT + 1)) USERS=1 THREADS=$THREADS ACCT_DETAIL=$detail \
		"$BENCH/peer-freeradius.sh" config >/dev/null 2>&1
	[ "$1" = acct-sqlite ] && return 0
	cat >"$fr/raddb/mods-enabled/sql" <<-CONF
	sql {
		dialect = "postgresql"
		driver = "rlm_sql_postgresql"
		server = "127.0.0.1"
		port = $PGPORT
		login = "postgres"
		radius_db = "radius"
		acct_table1 = "radacct"
		acct_table2 = "radacct"
		postauth_table = "radpostauth"
		authcheck_table = "radcheck"
		groupcheck_table = "radgroupcheck"
		authreply_table = "radreply"
		groupreply_table = "radgroupreply"
		usergroup_table = "radusergroup"
		delete_stale_sessions = yes
		pool {
			start = $POOL_CONNS
			min = $POOL_CONNS
			max = $POOL_CONNS
			spare = $POOL_CONNS
			uses = 0
			retry_delay = 30
			lifetime = 0
			idle_timeout = 0
		}
		read_clients = no
		client_table = "nas"
		group_attribute = "SQL-Group"
		\$INCLUDE \${modconfdir}/\${.:name}/main/\${dialect}/queries.conf
	}
	CONF
	cat >"$fr/raddb/mods-enabled/sqlippool" <<-'CONF'
	sqlippool {
		sql_module_instance = "sql"
		dialect = "postgresql"
		pool_name = "Pool-Name"
		ippool_table = "radippool"
		lease_duration = 3600
		attribute_name = Framed-IP-Address
		req_attribute_name = Framed-IP-Address
		pool_key = "%{Calling-Station-Id}"
		$INCLUDE ${modconfdir}/sql/ippool/${dialect}/queries.conf
	}
	CONF
	local site=$fr/raddb/sites-available/peer
	if [ "$1" = acct-pg ]; then
		python3 - "$site" <<-'PY'
		import sys; p = sys.argv[1]; s = open(p).read()
		s = s.replace("accounting {\n", "accounting {\n\t\tsql\n", 1)
		open(p, "w").write(s)
		PY
	else
		python3 - "$site" <<-'PY'
		import sys; p = sys.argv[1]; s = open(p).read()
		import re; s = re.sub(r"authorize \{\s*files\n", "authorize {\n\t\tsql\n", s, count=1)
		s = s.replace("post-auth {\n", "post-auth {\n\t\tupdate control {\n\t\t\t&Pool-Name := 'bench'\n\t\t}\n\t\tsqlippool\n", 1)
		open(p, "w").write(s)
		PY
	fi
	freeradius -C -d "$fr/raddb" >"$fr/check.log" 2>&1 || { tail -20 "$fr/check.log" >&2; exit 1; }
}

start_fr() { # row -> FR_PID
	local fr=$DIR/fr-$1
	rm -rf "$fr/log/radacct"
	freeradius -f -d "$fr/raddb" >"$fr/stdout.log" 2>&1 </dev/null &
	FR_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		echo 'User-Name = "user0001", User-Password = "pass0001"' |
			radclient -q -r 1 -t 1 "127.0.0.1:$FR_PORT" auth testing123 >/dev/null 2>&1 && return 0
		kill -0 "$FR_PID" 2>/dev/null || break
		sleep 0.2
	done
	log "FreeRADIUS ($1) did not start"; tail -20 "$fr/stdout.log" >&2; exit 1
}
stop_fr() { kill "$FR_PID" 2>/dev/null || log "WARNING: FreeRADIUS (pid $FR_PID) had exited; its results are void"; wait "$FR_PID" 2>/dev/null || true; }

# --- tsradius configurations (bench/daemon/gen-config.sh, with the data modules)
ts_modules() { # row -> the text of modules { }
	case $1 in
	acct-sqlite)
		cat <<-CONF
		sql {
			driver = "sqlite"
			dialect = "sqlite"
			sqlite {
				filename = "\${localstatedir}/radius.sqlite"
				bootstrap = "$SQLCONF/main/sqlite/schema.sql"
			}
			acct_table1 = "radacct"
			acct_table2 = "radacct"
			postauth_table = "radpostauth"
			authcheck_table = "radcheck"
			groupcheck_table = "radgroupcheck"
			authreply_table = "radreply"
			groupreply_table = "radgroupreply"
			usergroup_table = "radusergroup"
			group_attribute = "SQL-Group"
			\$INCLUDE $SQLCONF/main/sqlite/queries.conf
		}
		CONF
		;;
	*)
		cat <<-CONF
		sql {
			driver = "postgresql"
			dialect = "postgresql"
			server = "127.0.0.1:$PGPORT"
			login = "postgres"
			password = ""
			radius_db = "radius"
			acct_table1 = "radacct"
			acct_table2 = "radacct"
			postauth_table = "radpostauth"
			authcheck_table = "radcheck"
			groupcheck_table = "radgroupcheck"
			authreply_table = "radreply"
			groupreply_table = "radgroupreply"
			usergroup_table = "radusergroup"
			group_attribute = "SQL-Group"
			pool {
				start = $POOL_CONNS
				min = $POOL_CONNS
				max = $POOL_CONNS
			}
			postgresql {
				batch = $PG_BATCH
			}
			\$INCLUDE $SQLCONF/main/postgresql/queries.conf
		}
		sqlippool {
			sql_module_instance = "sql"
			dialect = "postgresql"
			ippool_table = "fr_ippool"
			lease_duration = 3600
			offer_duration = 3600	# as FreeRADIUS 3.2, which holds an allocation for lease_duration at once
			pool_name = "%{control.IP-Pool.Name}"
			owner = "%{Calling-Station-Id}"
			gateway = "%{NAS-IP-Address}"
			requested_address = "%{Framed-IP-Address}"
			allocated_address_attr = "reply.Framed-IP-Address"
			\$INCLUDE $SQLCONF/ippool/postgresql/queries.conf
		}
		CONF
		;;
	esac
}

start_ts() { # row -> TS_PID, TS_PIDS
	local d=$DIR/ts-$1 env=()
	ts_modules "$1" >"$DIR/ts-$1.modules"
	case $1 in
	acct-sqlite | acct-pg) env=(ACCT_WRITE=sql) ;;
	auth-pg) env=(AUTHORIZE=sql "SEND_ACCEPT=control.IP-Pool.Name := 'bench'"$'\n\t\t'"sqlippool") ;;
	esac
	env "${env[@]}" MODULES_FILE="$DIR/ts-$1.modules" USERS=1 WORKERS=$WORKERS AUTH_PORT=$PORT ACCT_PORT=$((PORT + 1)) \
		"$here/gen-config.sh" "$d" >/dev/null
	node "$here/daemon.js" -d "$d" -f >"$DIR/ts-$1.out" 2>&1 &
	TS_PID=$!
	local i
	for ((i = 0; i < 150; i++)); do
		grep -q 'Ready to process requests' "$d/var/log/radius.log" 2>/dev/null &&
			{ [ "$WORKERS" = 1 ] || grep -q 'workers ready' "$d/var/log/radius.log"; } && break
		kill -0 "$TS_PID" 2>/dev/null || break
		sleep 0.2
	done
	# Ready when it answers (on a busy machine the workers' database connections come up a few
	# seconds after "Ready to process requests").
	for ((i = 0; i < 60; i++)); do
		kill -0 "$TS_PID" 2>/dev/null || break
		if [ "$1" = auth-pg ]; then
			echo 'User-Name = "user0001", User-Password = "pass0001", Calling-Station-Id = "ready"' |
				radclient -q -r 1 -t 1 "127.0.0.1:$PORT" auth testing123 >/dev/null 2>&1 && break
		else
			echo 'Acct-Status-Type = Start, Acct-Session-Id = "ready", User-Name = "ready", NAS-IP-Address = 127.0.0.1' |
				radclient -q -r 1 -t 1 "127.0.0.1:$((PORT + 1))" acct testing123 >/dev/null 2>&1 && break
		fi
		sleep 0.5
	done
	kill -0 "$TS_PID" 2>/dev/null && ((i < 60)) || { log "tsradius ($1) did not start"; tail -n 20 "$DIR/ts-$1.out" "$d/var/log/radius.log" >&2; exit 1; }
	TS_PIDS=$(echo "$TS_PID" $(pgrep -P "$TS_PID") | tr ' ' ,)
}
stop_ts() { kill "$TS_PID" 2>/dev/null || log "WARNING: tsradius (pid $TS_PID) had exited; its results are void"; wait "$TS_PID" 2>/dev/null || true; }

busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

acct_run() { # label acct_port pids outdir: one sandstorm run, appended to outdir/raw.txt as a RESULT line
	mkdir -p "$4"
	local a b json=$4/run$(ls "$4" | grep -c '^run') other
	node "$SANDSTORM" 127.0.0.1 --acct-port "$2" -t acct --interims "$INTERIMS" -w "$ACCT_WINDOW" -u 1000 \
		-d "$DURATION" -W "$WARMUP" -T 1000 -R 0 --pid "$3" --json "$json.json" -q &
	local sp=$!
	sleep "$WARMUP"
	a=($(busy_ticks))
	wait "$sp" || true
	b=($(busy_ticks))
	# Everything else on the machine during the measured window, % of one core (the CPU of the servers
	# and of sandstorm come from sandstorm's report).
	other=$(node -e 'const r=require(process.argv[1]);const busy=100*require("os").cpus().length*(+process.argv[2])/(+process.argv[3]);console.log(Math.max(0,Math.round(busy-r.cpu.self_pct-(r.cpu.servers_pct||0))))' \
		"$json.json" $((b[0] - a[0])) $((b[1] - a[1])))
	node "$here/sandstorm-result.js" "$json.json" "$1" "$ACCT_TYPE" "$ACCT_WINDOW" "$other" >>"$4/raw.txt"
}

matrix() { # label auth_port acct_port pids row
	[ "$5" = acct-pg ] && psqlc 'TRUNCATE radacct' >/dev/null
	if [ "$5" = auth-pg ]; then
		env WINDOWS="$AUTH_WINDOW" WARMUP="$AUTH_WARMUP" ACCT_TYPES= LABEL="$1" AUTH_PORT="$2" ACCT_PORT="$3" PIDS="$4" OUTDIR="$CYCLEDIR/$1" \
			"$BENCH/run-matrix.sh" >/dev/null
	else
		acct_run "$1" "$3" "$4" "$CYCLEDIR/$1"
	fi
	log "$1: $(grep -h '^RESULT' "$CYCLEDIR/$1/raw.txt" | tail -1 | grep -o 'rps=[^ ]*\|p99_us=[^ ]*\|timeouts=[^ ]*\|errors=[^ ]*' | tr '\n' ' ')"
}

label_fr() { case $1 in acct-sqlite) echo freeradius-detail ;; *) echo "freeradius-${1#*-}-${1%%-*}" ;; esac; }
label_ts() { case $1 in acct-sqlite) echo tsradius-sqlite ;; *) echo "tsradius-${1#*-}-${1%%-*}" ;; esac; }
run_fr() { start_fr "$1"; matrix "$(label_fr "$1")" "$FR_PORT" $((FR_PORT + 1)) "$FR_PID$(pg_pids "$1")" "$1"; stop_fr; }
rss_ts() { # label: VmRSS (KiB) of every tsradius process, and the database size, after the run
	local p
	for p in ${TS_PIDS//,/ }; do echo "pid $p rss_kib $(awk '/^VmRSS/ {print $2}' /proc/$p/status 2>/dev/null)"; done >"$CYCLEDIR/$1/rss.txt"
	[ -f "$DIR/ts-acct-sqlite/var/radius.sqlite" ] && [[ $1 == *sqlite* ]] &&
		echo "sqlite $(sqlite3 "$DIR/ts-acct-sqlite/var/radius.sqlite" 'SELECT count(*) FROM radacct') rows, $(du -cb "$DIR"/ts-acct-sqlite/var/radius.sqlite* | tail -1 | cut -f1) bytes" >>"$CYCLEDIR/$1/rss.txt"
	return 0
}
run_ts() { start_ts "$1"; matrix "$(label_ts "$1")" "$PORT" $((PORT + 1)) "$TS_PIDS$(pg_pids "$1")" "$1"; rss_ts "$(label_ts "$1")"; stop_ts; }

for row in $ROWS; do fr_config "$row"; done
{ date -u; nproc; lscpu | grep 'Model name'; node --version; freeradius -v 2>&1 | sed -n 1p; uptime; } >"$OUTROOT/machine.txt" || true
pairs=
for row in $ROWS; do pairs+="$(label_ts "$row"):$(label_fr "$row") "; done
for ((cycle = 1; cycle <= CYCLES; cycle++)); do
	CYCLEDIR=$OUTROOT/cycle$cycle
	for row in $ROWS; do
		if ((cycle % 2)); then run_fr "$row"; run_ts "$row"; else run_ts "$row"; run_fr "$row"; fi
	done
done
uptime >>"$OUTROOT/machine.txt"
PAIRS=$pairs node "$here/summarize.js" "$OUTROOT" | tee "$OUTROOT/summary.md"
