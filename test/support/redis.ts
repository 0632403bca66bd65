/**
 * Private Redis servers for a test: a standalone `redis-server`, or a Redis Cluster of several
 * nodes made with `redis-cli --cluster create`, each on a free loopback port with its files in a
 * fresh temporary directory, never persisting, and stopped (only the processes started here) and
 * removed by `stop()`. The machine's own Redis (6379) is never touched.
 *
 * ```ts
 * const r = await startRedis();                 // r.port
 * const c = await startRedisCluster(6);         // 3 masters + 3 replicas; c.nodes[i].port
 * await c.stop(); await r.stop();
 * ```
 *
 * Needs Debian's `redis-server` and `redis-tools` (scripts/setup.sh installs them).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** One running node. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** A running standalone server or cluster. */
export interface RedisServer {
  readonly nodes: readonly RedisNode[];
  /** The first node's port (standalone: the server). */
  readonly port: number;
  readonly dir: string;
  /** Runs `redis-cli` against the first node (`-c` on a cluster); resolves with stdout. */
  cli(...args: string[]): string;
  /** Kills one node at once (SIGKILL), as a crash: for fail-over tests. */
  kill(port: number): void;
  stop(): Promise<void>;
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** `n` free loopback ports whose cluster-bus port (port + 10000) is free too. */
export async function freeRedisPorts(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let tries = 0; out.length < n && tries < 1000; tries++) {
    const p = 20000 + Math.floor(Math.random() * 35000);
    if (out.some((o) => Math.abs(o - p) < 2 || Math.abs(o + 10000 - p) < 2 || Math.abs(o - 10000 - p) < 2)) continue;
    if ((await tcpFree(p)) && (await tcpFree(p + 10000))) out.push(p);
  }
  if (out.length < n) throw new Error('no free loopback ports for redis');
  return out;
}

function need(bin: string): void {
  if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) throw new Error(`${bin} not found (run scripts/setup.sh as root to install Debian's redis-server and redis-tools)`);
}

function ping(port: number): boolean {
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { encoding: 'utf8', timeout: 2000 });
  return r.stdout.trim() === 'PONG';
}

async function waitUntil(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startNodes(count: number, cluster: boolean): Promise<{ procs: ChildProcess[]; nodes: RedisNode[]; dir: string }> {
  need('redis-server');
  need('redis-cli');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-redis-'));
  const ports = await freeRedisPorts(count);
  const procs: ChildProcess[] = [];
  for (const port of ports) {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--protected-mode', 'no', '--logfile', path.join(dir, `redis-${port}.log`)];
    if (cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--repl-diskless-sync-delay', '0');
    procs.push(spawn('redis-server', args, { stdio: 'ignore' }));
  }
  try {
    for (const port of ports) await waitUntil(() => ping(port), `redis-server on port ${port}`);
  } catch (e) {
    for (const p of procs) p.kill('SIGKILL');
    throw e;
  }
  return { procs, nodes: ports.map((port) => ({ host: '127.0.0.1', port })), dir };
}

function handle(procs: ChildProcess[], nodes: RedisNode[], dir: string, cluster: boolean): RedisServer {
  let stopped = false;
  return {
    nodes,
    port: nodes[0].port,
    dir,
    cli: (...args) => {
      const r = spawnSync('redis-cli', [...(cluster ? ['-c'] : []), '-h', '127.0.0.1', '-p', String(nodes[0].port), ...args], { encoding: 'utf8', timeout: 10_000 });
      if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    kill(port) {
      const i = nodes.findIndex((nd) => nd.port === port);
      if (i >= 0) procs[i].kill('SIGKILL');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
        if (p.exitCode !== null || p.signalCode !== null) return resolve();
        const t = setTimeout(() => p.kill('SIGKILL'), 5000);
        p.once('exit', () => { clearTimeout(t); resolve(); });
        p.kill('SIGTERM');
      })));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a standalone server. */
export async function startRedis(): Promise<RedisServer> {
  const { procs, nodes, dir } = await startNodes(1, false);
  return handle(procs, nodes, dir, false);
}

/** Starts `count` cluster nodes (at least 3) and joins them: one replica per master when count ≥ 6. */
export async function startRedisCluster(count = 6): Promise<RedisServer> {
  const { procs, nodes, dir } = await startNodes(count, true);
  const s = handle(procs, nodes, dir, true);
  try {
    const replicas = count >= 6 ? '1' : '0';
    const r = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', replicas, '--cluster-yes'],
      { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${r.stdout}\n${r.stderr}`);
    const ok = (port: number) => /cluster_state:ok/.test(spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'CLUSTER', 'INFO'], { encoding: 'utf8', timeout: 2000 }).stdout);
    await waitUntil(() => nodes.every((n) => ok(n.port)), 'cluster_state:ok on every node', 30_000);
    // Every replica has finished its first sync (until then it could not take over from its master).
    const synced = (port: number) => {
      const info = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'INFO', 'replication'], { encoding: 'utf8', timeout: 2000 }).stdout;
      return /role:master/.test(info) || /master_link_status:up/.test(info);
    };
    await waitUntil(() => nodes.every((n) => synced(n.port)), 'every replica in sync', 30_000);
  } catch (e) {
    await s.stop();
    throw e;
  }
  return s;
}
