/**
 * Test fixture for the cluster design (core/server/cluster.test.ts and the
 * measurements in docs/multicore.md): the primary forks workers; each worker
 * serves a tiny site on one shared UDP port and tags replies with its index
 * (`Reply-Message = "worker N"`), so a client can see which worker answered.
 *
 * Environment: TSRADIUS_FIXTURE_PORT (default 18200), TSRADIUS_FIXTURE_WORKERS
 * (default 2), TSRADIUS_FIXTURE_DICT (dictionary path), TSRADIUS_FIXTURE_DELAY_MS
 * (per-request processing delay, default 0).
 */
import cluster from 'node:cluster';
import { Dictionary } from '../../core/dict/dictionary';
import type { ModuleMethod } from '../../core/unlang/module-call';
import type { Rcode } from '../../core/request/rcode';
import { createRadiusProcess } from '../../core/process/radius/process';
import { ClusterPrimary, ENV_WORKER_INDEX, serveWorker, workerShare } from '../../core/server/cluster';
import { clientsFromText, compileSite } from './listen';
import { UdpListener } from '../../core/listen/udp';
import { udpBackend } from '../../core/native/udp';

const port = Number(process.env.TSRADIUS_FIXTURE_PORT ?? 18200);

async function worker(): Promise<void> {
  const dict = Dictionary.load(process.env.TSRADIUS_FIXTURE_DICT!);
  const index = process.env[ENV_WORKER_INDEX] ?? '0';
  const delay = Number(process.env.TSRADIUS_FIXTURE_DELAY_MS ?? 0);
  let runs = 0;
  const modules: Record<string, ModuleMethod> = {
    count: () => { runs++; return 'noop'; },
    pause: () => (delay > 0 ? new Promise<Rcode>((r) => setTimeout(() => r('ok'), delay)) : 'ok'),
  };
  const site = compileSite({
    'recv Access-Request': 'count\npause\ncontrol.Auth-Type := ::Accept',
    'send Access-Accept': `reply.Reply-Message := "worker ${index}"`,
    'recv Accounting-Request': 'count\nok',
    'send Accounting-Response': `reply.Reply-Message := "worker ${index}"`,
  }, { dict, modules, config: { rejectDelay: 0 } });
  const clients = clientsFromText('client lo {\n ipaddr = 127.0.0.1\n secret = testing123\n require_message_authenticator = no\n max_pps = 0\n}\n');
  clients.setShare(workerShare());
  const l = new UdpListener(
    { name: 'fixture', transport: 'udp', ipaddr: '127.0.0.1', port, types: [1, 4, 12], cleanupDelay: 5, maxPacketSize: 4096, recvBuff: 4 << 20 },
    { clients, sink: createRadiusProcess(site), dict },
  );
  await l.start();
  serveWorker({
    stats: () => ({ fixture: { ...l.stats(), site_runs: runs, native_udp: udpBackend().backend === 'native' ? 1 : 0 } }),
    shutdown: () => l.stop(),
  });
}

async function primary(): Promise<void> {
  const p = new ClusterPrimary({ workers: Number(process.env.TSRADIUS_FIXTURE_WORKERS ?? 2), exec: __filename, args: [] });
  await p.start();
  process.send?.({ fixture: 'ready', pids: p.pids() });
  const onMsg = async (m: unknown): Promise<void> => {
    const cmd = (m as { fixture?: string })?.fixture;
    if (cmd === 'stats') process.send?.({ fixture: 'stats', stats: await p.stats() });
    if (cmd === 'stop') { await p.stop(); process.exit(0); }
  };
  process.on('message', (m) => void onMsg(m));
  if (!process.send) {
    // Run by hand: print stats on SIGUSR2, stop on SIGINT/SIGTERM.
    process.on('SIGUSR2', () => void p.stats().then((s) => console.log(JSON.stringify(s))));
    const stop = (): void => void p.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    console.log(`fixture primary ${process.pid}: workers ${p.pids().join(', ')} on 127.0.0.1:${port}`);
  }
}

if (cluster.isWorker) void worker();
else void primary();
