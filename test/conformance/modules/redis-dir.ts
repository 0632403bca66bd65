/**
 * Start hook of FreeRADIUS's `redis` and `redis_ippool` module-test directories: a Redis Cluster of
 * our own (6 nodes: 3 masters, 3 replicas), as FreeRADIUS's CI provides on 30001-30006.
 *
 * Every test starts with `cluster_reset.inc`, which runs the cluster-control script
 * (`$REDIS_CLUSTER_CONTROL stop|clean|start|create`) and then polls until the replicas serve keys.
 * Our control script (written here, in the directory's scratch space) starts and stops six
 * `redis-server`s on free loopback ports (never the fixed 3000x) by their pid files, and joins
 * them with `redis-cli --cluster create`, whose output is the "created" answer the include wants.
 *
 * The configurations and tests name the fixed ports (`$ENV{REDIS_TEST_SERVER}:30001` …): in the
 * directory's writable copy, port 3000N becomes the N-th of our ports. The redis_ippool tests also
 * run `./build/bin/local/rlm_redis_ippool_tool -D ./share/dictionary …` relative to FreeRADIUS's
 * source root: the tests run with the scratch directory as the working directory, where that path
 * is a launcher of our `bin/redis-ippool-tool.js` (which takes the same arguments).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freeRedisPorts } from '../../support/redis';
import type { DirContext, DirServers } from './dirs';

function controlScript(dir: string, ports: readonly number[]): string {
  return `#!/bin/sh
# Cluster control for FreeRADIUS's redis module tests: stop | clean | start | create.
DIR='${dir}'
PORTS='${ports.join(' ')}'
ping() { redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null | grep -q PONG; }
case "$1" in
stop)
  for p in $PORTS; do
    if [ -f "$DIR/redis-$p.pid" ]; then kill "$(cat "$DIR/redis-$p.pid")" 2>/dev/null; fi
  done
  for p in $PORTS; do
    i=0; while [ -f "$DIR/redis-$p.pid" ] && kill -0 "$(cat "$DIR/redis-$p.pid")" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    if [ -f "$DIR/redis-$p.pid" ]; then kill -9 "$(cat "$DIR/redis-$p.pid")" 2>/dev/null; rm -f "$DIR/redis-$p.pid"; fi
  done ;;
clean)
  rm -f "$DIR"/nodes-*.conf "$DIR"/*.rdb "$DIR"/*.aof "$DIR"/redis-*.log ;;
start)
  for p in $PORTS; do
    redis-server --port "$p" --bind 127.0.0.1 --daemonize yes --pidfile "$DIR/redis-$p.pid" --dir "$DIR" \\
      --save '' --appendonly no --protected-mode no --logfile "$DIR/redis-$p.log" \\
      --cluster-enabled yes --cluster-config-file "nodes-$p.conf" --cluster-node-timeout 2000 \\
      --repl-diskless-sync-delay 0 --enable-debug-command local >/dev/null
  done
  for p in $PORTS; do i=0; while ! ping "$p" && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; done ;;
create)
  set -- $PORTS
  redis-cli --cluster create 127.0.0.1:$1 127.0.0.1:$2 127.0.0.1:$3 127.0.0.1:$4 127.0.0.1:$5 127.0.0.1:$6 --cluster-replicas 1 --cluster-yes 2>&1 | tail -n 3
  for p in $PORTS; do i=0; while ! redis-cli -h 127.0.0.1 -p "$p" CLUSTER INFO 2>/dev/null | grep -q cluster_state:ok && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; done
  # Redis 7 leaves a replica out of CLUSTER SLOTS until it has replicated something: one write
  # (then deleted) to each master (keys b, c and d hash to the three slot ranges), then wait until
  # every node's slot map lists the replicas too (3 masters + 3 replicas).
  for k in '{b}.create' '{c}.create' '{d}.create'; do
    redis-cli -c -h 127.0.0.1 -p "$1" SET "$k" 1 >/dev/null 2>&1; redis-cli -c -h 127.0.0.1 -p "$1" DEL "$k" >/dev/null 2>&1
  done
  for p in $PORTS; do i=0; while [ "$(redis-cli -h 127.0.0.1 -p "$p" CLUSTER SLOTS 2>/dev/null | grep -c '^127.0.0.1$')" -lt 6 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; done ;;
*)
  echo "usage: $0 stop|clean|start|create" >&2; exit 2 ;;
esac
`;
}

export async function startRedisDir(ctx: DirContext): Promise<DirServers | string> {
  for (const bin of ['redis-server', 'redis-cli']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} not found (scripts/setup.sh installs Debian's redis-server and redis-tools)`;
  }
  const ports = await freeRedisPorts(6);
  const data = path.join(ctx.workDir, 'redis');
  fs.mkdirSync(data, { recursive: true });
  const ctl = path.join(ctx.workDir, 'redis-cluster-control.sh');
  fs.writeFileSync(ctl, controlScript(data, ports), { mode: 0o755 });
  // The fixed ports of the configuration and the tests → ours.
  for (const f of fs.readdirSync(ctx.dir)) {
    const p = path.join(ctx.dir, f);
    if (!fs.statSync(p).isFile()) continue;
    const t = fs.readFileSync(p, 'utf8');
    const u = t.replace(/:3000([1-6])\b/g, (_m, n: string) => `:${ports[Number(n) - 1]}`);
    if (u !== t) fs.writeFileSync(p, u);
  }
  // FreeRADIUS's source-root paths the redis_ippool tests run.
  const tool = path.join(ctx.workDir, 'build', 'bin', 'local', 'rlm_redis_ippool_tool');
  fs.mkdirSync(path.dirname(tool), { recursive: true });
  fs.writeFileSync(tool, `#!/bin/sh\nexec '${process.execPath}' '${path.join(ctx.root, 'bin', 'redis-ippool-tool.js')}' "$@"\n`, { mode: 0o755 });
  fs.mkdirSync(path.join(ctx.workDir, 'share'), { recursive: true });
  fs.writeFileSync(path.join(ctx.workDir, 'share', 'dictionary'), '# (the tool needs no dictionary)\n');
  ctx.log(`${ctx.name}: Redis Cluster on 127.0.0.1:${ports.join(',')}`);
  return {
    env: { REDIS_TEST_SERVER: '127.0.0.1', REDIS_IPPOOL_TEST_SERVER: '127.0.0.1', REDIS_CLUSTER_CONTROL: ctl },
    cwd: ctx.workDir,
    stop: async () => {
      spawnSync(ctl, ['stop'], { stdio: 'ignore', timeout: 30_000 });
    },
  };
}
