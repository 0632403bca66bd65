/**
 * Cluster design check on loopback: two workers on one UDP port, sharing the
 * primary's socket (node:dgram) or each with its own SO_REUSEPORT socket (the
 * native addon, when built). Compiles the fixture with tsc into a temp dir first (slow; the
 * rest of the suite runs from sources), so this file has a long timeout.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDictionaryPath } from '../dict/default';
import { PacketCode as C } from '../protocol/radius/packet';
import { sumStats, clusterRole, workerShare } from './cluster';
import { buildRequest, decodeReply, pairValue, UdpPeer } from '../../test/support/listen';
import { udpBackend } from '../native/udp';
import { freePorts } from '../../test/interop/freeradius';

const root = path.resolve(__dirname, '..', '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-cluster-'));
let port = 0;
let primary: ChildProcess | undefined;

function ask(cmd: string): Promise<any> {
  return new Promise((resolve) => {
    const on = (m: any): void => { if (m?.fixture === cmd) { primary!.off('message', on); resolve(m); } };
    primary!.on('message', on);
    primary!.send({ fixture: cmd });
  });
}

describe('cluster helpers', () => {
  it('sums counter trees and decides roles', () => {
    expect(sumStats([{ a: { x: 1, y: 2 } }, { a: { x: 3 }, b: { z: 1 } }])).toEqual({ a: { x: 4, y: 2 }, b: { z: 1 } });
    expect(clusterRole({ debug: true, workers: 4 })).toBe('single');
    expect(clusterRole({ workers: 1 })).toBe('single');
    expect(clusterRole({ workers: 2 })).toBe('primary');
    expect(workerShare()).toBe(1);
  });
});

describe('cluster: two workers on one UDP socket', () => {
  beforeAll(async () => {
    [port] = await freePorts(1);
    // tsc exits non-zero on type errors anywhere in the import graph but still emits; the fixture is what matters.
    try { execFileSync(process.execPath, [
      path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--outDir', out, '--rootDir', root,
      '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'ES2022', '--types', 'node',
      '--esModuleInterop', '--experimentalDecorators', '--emitDecoratorMetadata', '--skipLibCheck', '--resolveJsonModule',
      path.join(root, 'test', 'support', 'cluster-fixture.ts'),
    ], { cwd: root, stdio: 'pipe' }); } catch (e) {
      if (!fs.existsSync(path.join(out, 'test', 'support', 'cluster-fixture.js'))) throw e;
    }
    // The fixture runs from the temp build: give it the native addon too, when it is built here.
    const addon = path.join(root, 'core', 'native', 'udp', 'build');
    if (fs.existsSync(addon)) fs.cpSync(addon, path.join(out, 'core', 'native', 'udp', 'build'), { recursive: true });
    primary = fork(path.join(out, 'test', 'support', 'cluster-fixture.js'), [], {
      env: { ...process.env, TSRADIUS_FIXTURE_PORT: String(port), TSRADIUS_FIXTURE_WORKERS: '2', TSRADIUS_FIXTURE_DICT: defaultDictionaryPath() },
      stdio: 'pipe',
    });
    await new Promise<void>((resolve, reject) => {
      primary!.on('message', (m: any) => { if (m?.fixture === 'ready') resolve(); });
      primary!.once('exit', (c) => reject(new Error(`fixture exited with ${c}`)));
    });
  }, 120000);

  afterAll(async () => {
    if (primary && primary.exitCode === null) {
      primary.send({ fixture: 'stop' });
      await new Promise((r) => { primary!.once('exit', r); setTimeout(r, 5000); });
    }
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('spreads requests over both workers; a retransmit reaches the worker holding the request (native) or is answered from the cache only when it does (dgram)', async () => {
    // 16 client sockets: the kernel spreads flows by source port when each worker owns a socket.
    const peers = await Promise.all(Array.from({ length: 16 }, () => UdpPeer.open(port)));
    const native = udpBackend().backend === 'native';
    expect((await ask('stats')).stats.fixture.native_udp).toBe(native ? 2 : 0);
    try {
      // Wait until the workers answer.
      let up = false;
      for (let i = 0; i < 100 && !up; i++) {
        const r = await peers[0].exchange(buildRequest(C.AccessRequest, 'User-Name = "probe"', { id: 250 }), 200);
        up = r !== null;
      }
      expect(up).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      const before = (await ask('stats')).stats.fixture;
      const N = 200;
      const by = new Map<string, number>();
      let same = 0;
      for (let i = 0; i < N; i++) {
        const peer = peers[i % peers.length];
        const req = buildRequest(C.AccessRequest, `User-Name = "u${i}"`, { id: i % 250 });
        const r1 = await peer.exchange(req, 1000);
        const r2 = await peer.exchange(req, 1000);
        expect(r1).not.toBeNull();
        expect(r2).not.toBeNull();
        const w1 = String(pairValue(decodeReply(r1!, req), 'Reply-Message'));
        const w2 = String(pairValue(decodeReply(r2!, req), 'Reply-Message'));
        by.set(w1, (by.get(w1) ?? 0) + 1);
        if (w1 === w2) same++;
      }
      const after = (await ask('stats')).stats.fixture;
      const runs = after.site_runs - before.site_runs;
      const cached = after.dup_cached - before.dup_cached;
      // Every retransmit was either answered from a cache or processed again by the other worker.
      expect(runs + cached).toBe(2 * N);
      console.log(`cluster (${native ? 'native' : 'dgram'}): first packets by worker ${JSON.stringify(Object.fromEntries(by))}; retransmit reached the same worker ${same}/${N}; answered from cache ${cached}/${N}; site runs ${runs} for ${N} requests`);
      expect(by.size).toBe(2);
      if (native) {
        // Each worker owns its socket: a NAS flow always reaches the same worker, so the cache is exact.
        expect(same).toBe(N);
        expect(cached).toBe(N);
        expect(runs).toBe(N);
      }
    } finally {
      for (const p of peers) p.close();
    }
  }, 60000);
});
