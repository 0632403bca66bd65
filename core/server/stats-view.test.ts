/** The stats file and %stats() as views of the metrics registry, in one process and merged over workers. */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_COUNTERS } from '../listen/ingest';
import { buildRequest, decodeReply, pairValue } from '../../test/support/listen';
import { CLOSED_LISTENERS, emitListenerStats, listenerStatsFrom } from '../listen/metrics';
import type { ListenerStats } from '../listen/types';
import { MemoryLogger } from '../log/memory';
import { MetricsRegistry } from '../metrics/registry';
import { mergeSnapshots, sampleValue } from '../metrics/snapshot';
import { renderPrometheus } from '../metrics/prometheus';
import { Server } from './server';
import { clusterStatsView } from './stats-view';
import { freePorts } from '../../test/interop/freeradius';

function listenerRecord(n: number): ListenerStats {
  const s: ListenerStats = {};
  for (const k of BASE_COUNTERS) s[k] = 0;
  s.received = 3 * n;
  s.processed = n;
  s.drop_malformed = 2 * n;
  s['malformed:short'] = 2 * n;
  s.tracked = n;
  s.send_errors = 0;
  return s;
}

describe('listener counters in the registry', () => {
  it('round-trip: every counter of a listener record comes back under its name', () => {
    const r = new MetricsRegistry();
    r.collect((out) => { emitListenerStats(out, 'default.auth', listenerRecord(1)); emitListenerStats(out, 'default.acct', listenerRecord(2)); });
    const back = listenerStatsFrom(r.snapshot());
    expect([...back.keys()]).toEqual(['default.auth', 'default.acct']);
    expect(back.get('default.auth')).toEqual(listenerRecord(1));
    expect(back.get('default.acct')).toEqual(listenerRecord(2));
  });

  it('the cluster primary sums the workers\u2019 snapshots into the same file shape', () => {
    const worker = (n: number) => {
      const r = new MetricsRegistry();
      r.collect((out) => { emitListenerStats(out, 'default.auth', listenerRecord(n)); emitListenerStats(out, CLOSED_LISTENERS, { received: 1, drop_decode: 1 }); });
      return JSON.parse(JSON.stringify(r.snapshot())); // as sent over IPC
    };
    const view = clusterStatsView(mergeSnapshots([worker(1), worker(2)]), 2);
    expect(view.workers).toBe(2);
    expect(Object.keys(view.listeners)).toEqual(['default.auth']);
    expect(view.listeners['default.auth']).toEqual(listenerRecord(3));
    // Totals include listeners closed by a reload; drop_total sums the drop_* counters.
    expect(view.total.received).toBe(11);
    expect(view.total.drop_total).toBe(6 + 2);
  });
});

let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const conf = (second: boolean, ports: number[]) => `confdir = .
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
	require_message_authenticator = no
}
server default {
	namespace = radius
	listen auth {
		type = Access-Request
		type = Status-Server
		udp {
			ipaddr = 127.0.0.1
			port = ${ports[0]}
		}
	}
${second ? `	listen second {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${ports[1]}
		}
	}` : ''}
	recv Access-Request {
		reject
	}
	recv Status-Server {
		reply.Reply-Message := "rx %stats(received) drops %stats(drop_total)"
		ok
	}
}
`;

function send(port: number, pkt: Buffer, wait = true): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(null); }, wait ? 5000 : 200);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m); });
    s.send(pkt, port, '127.0.0.1');
  });
}

describe('Server counters are views of the metrics registry', () => {
  it('stats(), %stats() and the Prometheus text agree; a closed listener still counts in the totals', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-metrics-'));
    const file = path.join(dir, 'radiusd.conf');
    const ports = await freePorts(2);
    fs.writeFileSync(file, conf(true, ports));
    const metrics = new MetricsRegistry();
    server = new Server({ file, log: new MemoryLogger(false), triggers: false, services: { metrics } });
    await server.start();
    const [auth, second] = server.addresses();
    expect(second.name).toBe('default.second');
    // Junk (too short) to each listener: counted as malformed drops.
    await send(auth.port, Buffer.from([1, 2, 3]), false);
    await send(second.port, Buffer.from([1, 2, 3]), false);
    let s = server.stats();
    expect(s.listeners['default.auth'].drop_malformed).toBe(1);
    expect(s.total.received).toBe(2);
    fs.writeFileSync(file, conf(false, ports));
    expect(await server.reload()).toBe(true);
    s = server.stats();
    expect(Object.keys(s.listeners)).toEqual(['default.auth']);
    expect(s.total.received).toBe(2); // the closed listener's counters stay in the totals
    expect(s.reloads).toEqual({ ok: 1, failed: 0 });
    expect(s.generation).toBe(2);
    // Status-Server through %stats(): the site reads the same registry (this packet counts as received).
    const status = buildRequest(12, '');
    const reply = await send(auth.port, status);
    expect(pairValue(decodeReply(reply!, status), 'Reply-Message')).toBe('rx 3 drops 2');
    s = server.stats();
    expect(s.total.received).toBe(3);
    expect(s.total.replied).toBe(1);
    const text = renderPrometheus(metrics.snapshot());
    expect(text).toMatch(/^tsradius_listener_received_total\{listener="default\.auth"\} 2$/m);
    expect(text).toMatch(/^tsradius_listener_received_total\{listener="_closed"\} 1$/m);
    expect(text).toMatch(/^tsradius_listener_dropped_total\{listener="default\.auth",reason="malformed"\} 1$/m);
    expect(text).toMatch(/^tsradius_reloads_total\{result="ok"\} 1$/m);
    expect(text).toMatch(/^tsradius_clients\{server="default"\} 1$/m);
    expect(sampleValue(metrics.snapshot(), 'tsradius_generation')).toBe(2);
  });
});

const mergedConf = (tcpPort: number) => `confdir = .
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
	require_message_authenticator = no
}
app health {
	ipaddr = 127.0.0.1
	port = 0
}
server default {
	namespace = radius
	listen tcp {
		type = Access-Request
		transport = tcp
		tcp {
			ipaddr = 127.0.0.1
			port = ${tcpPort}
		}
		limit {
			max_connections_per_client = 1
		}
	}
	recv Access-Request {
		control.Auth-Type := ::Accept
	}
}
`;

describe('inject, TCP refusals and apps in the registry', () => {
  it('the inject pseudo-listener, tcp_rejected_* / tcp_open and app health show in stats(), Prometheus and the cluster view', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-metrics-'));
    const file = path.join(dir, 'radiusd.conf');
    const [tcpPort] = await freePorts(1);
    fs.writeFileSync(file, mergedConf(tcpPort));
    const metrics = new MetricsRegistry();
    server = new Server({ file, log: new MemoryLogger(false), triggers: false, services: { metrics } });
    await server.start();
    const reply = await server.inject('default', { code: 'Access-Request', pairs: 'User-Name = "bob"' });
    expect(reply.name).toBe('Access-Accept');
    // Two connections from one address with max_connections_per_client = 1: the second is refused.
    const first = net.connect(tcpPort, '127.0.0.1');
    await new Promise((r) => first.once('connect', r));
    const waitFor = async (ok: () => boolean) => { for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25)); };
    await waitFor(() => (server!.stats().listeners['default.tcp']?.tcp_open ?? 0) === 1);
    const second = net.connect(tcpPort, '127.0.0.1');
    second.on('error', () => undefined);
    await new Promise((r) => second.once('close', r));
    await waitFor(() => (server!.stats().listeners['default.tcp']?.tcp_rejected ?? 0) === 1);
    const s = server.stats();
    expect(s.listeners.inject).toMatchObject({ received: 1, processed: 1, replied: 1, no_reply: 0 });
    expect(s.listeners['default.tcp']).toMatchObject({ tcp_accepted: 1, tcp_open: 1, tcp_rejected: 1, tcp_rejected_per_client: 1 });
    expect(s.total.replied).toBe(1);
    expect(s.apps).toEqual({ health: expect.objectContaining({ kind: 'health', status: 'ok' }) });
    const snap = metrics.snapshot();
    const text = renderPrometheus(snap);
    expect(text).toMatch(/^tsradius_listener_replied_total\{listener="inject"\} 1$/m);
    expect(text).toMatch(/^tsradius_listener_tcp_rejected_per_client_total\{listener="default\.tcp"\} 1$/m);
    expect(text).toMatch(/^# TYPE tsradius_listener_tcp_connections gauge$/m);
    expect(text).toMatch(/^tsradius_listener_tcp_connections\{listener="default\.tcp"\} 1$/m);
    expect(text).toMatch(/^tsradius_app_up\{kind="health",name="health"\} 1$/m);
    // A cluster primary's view of two such workers: counters summed, apps up only if up everywhere.
    const down = new MetricsRegistry();
    down.collect((out) => out.gauge({ name: 'tsradius_app_up', help: 'x', labelNames: ['kind', 'name'], merge: 'min' }, ['health', 'health'], 0));
    const view = clusterStatsView(mergeSnapshots([JSON.parse(JSON.stringify(snap)), JSON.parse(JSON.stringify(snap))]), 2);
    expect(view.listeners.inject.received).toBe(2);
    expect(view.listeners['default.tcp'].tcp_rejected_per_client).toBe(2);
    expect(view.apps).toEqual({ health: { kind: 'health', up: 1 } });
    expect(clusterStatsView(mergeSnapshots([snap, down.snapshot()]), 2).apps).toEqual({ health: { kind: 'health', up: 0 } });
    first.destroy();
  });
});
