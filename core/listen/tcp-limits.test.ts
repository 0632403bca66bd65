/**
 * TCP exhaustion limits (issue 8 item 3): per-address and total connection limits, idle
 * timeout, read deadline for a started packet, and the refusal counters. Loopback only,
 * bounded in count; timeouts are configured short and only upper bounds are waited for.
 */
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../log/memory';
import { createRadiusProcess } from '../process/radius/process';
import { PacketCode as C } from '../protocol/radius/packet';
import { TcpListener, TCP_LIMIT_DEFAULTS } from './tcp';
import { buildRequest, clientsFromText, compileSite, decodeReply, TcpPeer, testDict, waitFor } from '../../test/support/listen';
import type { ListenerConfig, ListenerStats } from './types';

const dict = testDict();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CLIENTS = `
client flooder {
  ipaddr = 127.0.0.1
  secret = testing123
  require_message_authenticator = no
}
client nas {
  ipaddr = 127.0.0.2
  secret = testing123
  require_message_authenticator = no
}
`;

const listeners: TcpListener[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const l of listeners.splice(0)) await l.stop();
});

async function listener(limits: Partial<ListenerConfig>, log?: MemoryLogger): Promise<{ l: TcpListener; port: number }> {
  const site = compileSite({ 'recv Access-Request': 'control.Auth-Type := ::Accept' }, { config: { rejectDelay: 0 } });
  const l = new TcpListener(
    { name: 'tcp', transport: 'tcp', ipaddr: '127.0.0.1', port: 0, types: [C.AccessRequest], cleanupDelay: 5, maxPacketSize: 4096, ...limits },
    { clients: clientsFromText(CLIENTS), sink: createRadiusProcess(site), dict, log },
  );
  await l.start();
  listeners.push(l);
  return { l, port: l.address()!.port };
}

/** Opens `n` connections from `local` in batches and keeps them open (idle) until the server closes them. */
async function flood(port: number, n: number, local = '127.0.0.1'): Promise<void> {
  const batch = 100;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => new Promise<void>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress: local });
      sockets.push(s);
      s.on('error', () => resolve());
      s.on('connect', () => resolve());
      s.on('close', () => resolve());
    })));
  }
}

/** Both bookkeeping identities of the TCP counters. */
function expectCountersAddUp(s: ListenerStats): void {
  expect(s.tcp_accepted).toBe(s.tcp_open + s.tcp_closed + s.tcp_closed_bad + s.tcp_closed_idle + s.tcp_closed_read_timeout);
  expect(s.tcp_rejected).toBe(s.tcp_rejected_unknown_client + s.tcp_rejected_max_connections + s.tcp_rejected_per_client);
}

/** Connects from `local` and resolves true once the server refused or closed the connection (false after `ms`). */
function refused(port: number, local: string, ms = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: local });
    sockets.push(s);
    const t = setTimeout(() => resolve(false), ms);
    s.on('error', () => { /* close follows */ });
    s.on('close', () => { clearTimeout(t); resolve(true); });
  });
}

async function served(port: number, local: string): Promise<boolean> {
  const p = await TcpPeer.connect(port, '127.0.0.1', local);
  try {
    const req = buildRequest(C.AccessRequest, 'User-Name = "nas"');
    p.write(req);
    const r = await p.recv(5000);
    return r !== null && decodeReply(r, req).code === C.AccessAccept;
  } finally {
    p.close();
  }
}

describe('TCP listener limits', () => {
  it('defaults are at least as strict as FreeRADIUS 3 (16 connections, 30 s idle)', async () => {
    expect(TCP_LIMIT_DEFAULTS.maxConnections).toBeLessThanOrEqual(16);
    expect(TCP_LIMIT_DEFAULTS.idleTimeout).toBeLessThanOrEqual(30);
    expect(TCP_LIMIT_DEFAULTS.maxConnectionsPerClient).toBeLessThan(TCP_LIMIT_DEFAULTS.maxConnections);
    const { l } = await listener({});
    expect(l.limits).toEqual(TCP_LIMIT_DEFAULTS);
  });

  it('2,000 idle connections from one address do not lock out another client', async () => {
    const log = new MemoryLogger();
    const { l, port } = await listener({ maxConnections: 16, maxConnectionsPerClient: 4 }, log);
    await flood(port, 2000);
    expect(await waitFor(() => l.stats().tcp_accepted + l.stats().tcp_rejected >= 2000, 20000)).toBe(true);
    let s = l.stats();
    expect(s.tcp_accepted).toBe(4);
    expect(s.tcp_open).toBe(4);
    expect(s.tcp_rejected_per_client).toBe(1996);
    expect(s.tcp_rejected_max_connections).toBe(0);
    expect(await served(port, '127.0.0.2')).toBe(true);
    s = l.stats();
    expect(s.tcp_accepted).toBe(5);
    expect(s.replied).toBe(1);
    expectCountersAddUp(s);
    // Refusals are logged at a limited rate, not once per connection.
    const lines = log.lines.filter((x) => x.msg.includes('max_connections_per_client'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(20);
  }, 60000);

  it('max_connections caps the listener; refused connections are counted apart', async () => {
    const { l, port } = await listener({ maxConnections: 3, maxConnectionsPerClient: 0 });
    await flood(port, 5);
    expect(await waitFor(() => l.stats().tcp_accepted + l.stats().tcp_rejected >= 5, 5000)).toBe(true);
    const s = l.stats();
    expect(s.tcp_accepted).toBe(3);
    expect(s.tcp_rejected_max_connections).toBe(2);
    // Full: the other client is refused too, until a slot frees up.
    expect(await refused(port, '127.0.0.2')).toBe(true);
    expect(await waitFor(() => l.stats().tcp_rejected_max_connections === 3, 5000)).toBe(true);
    sockets.splice(0).forEach((x) => x.destroy());
    expect(await waitFor(() => l.stats().tcp_open === 0, 5000)).toBe(true);
    expect(await served(port, '127.0.0.2')).toBe(true);
    expectCountersAddUp(l.stats());
  }, 30000);

  it('connections from unknown addresses are refused at once', async () => {
    const { l, port } = await listener({});
    expect(await refused(port, '127.0.0.9')).toBe(true);
    expect(await waitFor(() => l.stats().tcp_rejected === 1, 5000)).toBe(true);
    const s = l.stats();
    expect(s.tcp_rejected_unknown_client).toBe(1);
    expect(s.tcp_accepted).toBe(0);
    expectCountersAddUp(s);
  });

  it('closes a connection after idle_timeout without traffic', async () => {
    const { l, port } = await listener({ idleTimeout: 0.3 });
    const p = await TcpPeer.connect(port, '127.0.0.1', '127.0.0.2');
    // A request first: the idle clock starts again after traffic.
    const req = buildRequest(C.AccessRequest, 'User-Name = "x"');
    p.write(req);
    expect(await p.recv(5000)).not.toBeNull();
    expect(await p.waitClosed(10000)).toBe(true);
    const s = l.stats();
    expect(s.tcp_closed_idle).toBe(1);
    expect(s.tcp_open).toBe(0);
    expectCountersAddUp(s);
  }, 20000);

  it('cuts a packet dripped byte by byte at the read deadline', async () => {
    const { l, port } = await listener({ readTimeout: 0.5, idleTimeout: 30 });
    const p = await TcpPeer.connect(port, '127.0.0.1', '127.0.0.2');
    const req = buildRequest(C.AccessRequest, 'User-Name = "dripping-slowly"');
    let sent = 0;
    // One byte every 100 ms keeps the connection from being idle; the whole packet would take seconds.
    while (!p.closed && sent < req.length) {
      p.write(req.subarray(sent, sent + 1));
      sent++;
      await sleep(100);
    }
    expect(p.closed).toBe(true);
    expect(sent).toBeLessThan(req.length);
    const s = l.stats();
    expect(s.tcp_closed_read_timeout).toBe(1);
    expect(s.received).toBe(0);
    expect(s.replied).toBe(0);
    expectCountersAddUp(s);
    // A packet sent in pieces within the deadline is still answered.
    const q = await TcpPeer.connect(port, '127.0.0.1', '127.0.0.2');
    q.write(req.subarray(0, 7));
    await sleep(50);
    q.write(req.subarray(7));
    const r = await q.recv(5000);
    q.close();
    expect(r).not.toBeNull();
  }, 30000);

  it('an accept error reported by the server is counted and logged, and the listener keeps serving', async () => {
    const log = new MemoryLogger();
    const { l, port } = await listener({}, log);
    // What net.Server emits when accept() fails (ENFILE, ENOBUFS …); without a handler it would throw.
    const server = (l as unknown as { server: net.Server }).server;
    for (let i = 0; i < 50; i++) server.emit('error', Object.assign(new Error('accept ENFILE'), { code: 'ENFILE' }));
    expect(l.stats().tcp_accept_errors).toBe(50);
    const lines = log.lines.filter((x) => x.msg.includes('cannot accept'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(10);
    expect(await served(port, '127.0.0.2')).toBe(true);
  });
});
