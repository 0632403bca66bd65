import { afterEach, describe, expect, it } from 'vitest';
import type { CallSignal, ModuleMethod } from '../unlang/module-call';
import type { Rcode } from '../request/rcode';
import { MemoryLogger } from '../log/memory';
import { createRadiusProcess, type RadiusProcess } from '../process/radius/process';
import type { SiteConfig } from '../process/namespace';
import { PacketCode as C } from '../protocol/radius/packet';
import { totalDrops } from './ingest';
import { TcpListener } from './tcp';
import {
  buildRequest, clientsFromText, compileSite, decodeReply, pairValue, TcpPeer, testDict, UdpPeer, waitFor,
} from '../../test/support/listen';
import type { Listener, ListenerConfig } from './types';
import { UdpListener } from './udp';

const dict = testDict();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CLIENTS = `
client localhost {
  ipaddr = 127.0.0.1
  secret = testing123
  shortname = lo
}
`;

const SITE = {
  'recv Access-Request': `
    executions
    if (User-Name == "bob") {
      control.Auth-Type := ::PAP
    }
    elsif (User-Name == "acceptme") {
      control.Auth-Type := ::Accept
    }
    elsif (User-Name == "slow") {
      slow
      control.Auth-Type := ::Accept
    }
    elsif (User-Name == "stuck") {
      stuck
    }
  `,
  'authenticate pap': `
    if (User-Password == "hello") {
      ok
    } else {
      reject
    }
  `,
  'send Access-Accept': 'reply.Reply-Message := "Hello, %{User-Name}"',
  'send Access-Reject': 'reply.Reply-Message := "Denied"',
  'recv Accounting-Request': `
    if (User-Name == "failme") {
      fail
    }
    ok
  `,
  'accounting Start': 'reply.Reply-Message := "started"',
};

interface Env {
  listener: Listener;
  proc: RadiusProcess;
  port: number;
  executions: () => number;
  signals: CallSignal[];
}

const started: Listener[] = [];
const peers: { close(): void }[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  for (const l of started.splice(0)) await l.stop();
});

async function setup(o: {
  transport?: 'udp' | 'tcp';
  clients?: string;
  config?: Partial<SiteConfig>;
  listen?: Partial<ListenerConfig>;
  sections?: Record<string, string>;
  modules?: Record<string, ModuleMethod>;
  log?: MemoryLogger;
} = {}): Promise<Env> {
  let n = 0;
  const signals: CallSignal[] = [];
  const modules: Record<string, ModuleMethod> = {
    executions: () => { n++; return 'noop'; },
    slow: (_r, ctx) => {
      ctx.onSignal((s) => signals.push(s));
      return new Promise<Rcode>((res) => setTimeout(() => res('ok'), 150));
    },
    stuck: (_r, ctx) => {
      ctx.onSignal((s) => signals.push(s));
      return new Promise<Rcode>(() => { /* never settles */ });
    },
    ...o.modules,
  };
  const site = compileSite(o.sections ?? SITE, { modules, config: { rejectDelay: 0, ...o.config } });
  const proc = createRadiusProcess(site);
  const cfg: ListenerConfig = {
    name: 'test', transport: o.transport ?? 'udp', ipaddr: '127.0.0.1', port: 0,
    types: [C.AccessRequest, C.AccountingRequest, C.StatusServer, C.CoARequest, C.DisconnectRequest],
    cleanupDelay: 5, maxPacketSize: 4096, ...o.listen,
  };
  const deps = { clients: clientsFromText(o.clients ?? CLIENTS), sink: proc, dict, log: o.log };
  const listener = cfg.transport === 'tcp' ? new TcpListener(cfg, deps) : new UdpListener(cfg, deps);
  await listener.start();
  started.push(listener);
  return { listener, proc, port: listener.address()!.port, executions: () => n, signals };
}

async function udpPeer(port: number): Promise<UdpPeer> {
  const p = await UdpPeer.open(port);
  peers.push(p);
  return p;
}

describe('UDP listener + radius process', () => {
  it('answers Access-Request: Accept via authenticate pap, Reject on a bad password', async () => {
    const env = await setup();
    const peer = await udpPeer(env.port);
    const req = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "hello"', { id: 7 });
    const rep = await peer.exchange(req);
    expect(rep).not.toBeNull();
    const d = decodeReply(rep!, req);
    expect(d.code).toBe(C.AccessAccept);
    expect(d.id).toBe(7);
    expect(d.hasMa).toBe(true);
    expect(pairValue(d, 'Reply-Message')).toBe('Hello, bob');
    // Message-Authenticator is the first attribute of the reply.
    expect(rep![20]).toBe(80);

    const bad = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "nope"', { id: 8 });
    const d2 = decodeReply((await peer.exchange(bad))!, bad);
    expect(d2.code).toBe(C.AccessReject);
    expect(pairValue(d2, 'Reply-Message')).toBe('Denied');

    // No Auth-Type → Reject.
    const none = buildRequest(C.AccessRequest, 'User-Name = "nobody"', { id: 9 });
    expect(decodeReply((await peer.exchange(none))!, none).code).toBe(C.AccessReject);
    const s = env.listener.stats();
    expect(s.processed).toBe(3);
    expect(s.replied).toBe(3);
    expect(totalDrops(s)).toBe(0);
  });

  it('serves IPv6 clients on an IPv6 listener', async () => {
    const env = await setup({ clients: 'client v6 {\n ipv6addr = ::1/128\n secret = testing123\n shortname = six\n}\n', listen: { ipaddr: '::1' } });
    const peer = await UdpPeer.open(env.port, '::1');
    peers.push(peer);
    const req = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "hello"');
    expect(decodeReply((await peer.exchange(req))!, req).code).toBe(C.AccessAccept);
  });

  it('dual-stack: a listener on :: sees an IPv4 peer as plain IPv4 (client lookup, Packet-Src-IP-Address, reply)', async () => {
    const sections = {
      'recv Access-Request': `
        reply.Reply-Message := "%{Packet-Src-IP-Address}|%{Client-IP-Address}|%{Client-Shortname}|%{Packet-Src-IPv6-Address}"
        control.Auth-Type := ::Accept`,
      'recv Accounting-Request': 'reply.Reply-Message := "%{Packet-Src-IP-Address}"',
    };
    for (const transport of ['udp', 'tcp'] as const) {
      const env = await setup({ transport, sections, listen: { ipaddr: '::' } });
      const req = buildRequest(C.AccessRequest, 'User-Name = "x"');
      let rep: Buffer | null;
      if (transport === 'udp') {
        const peer = await udpPeer(env.port); // 127.0.0.1 → :: arrives as ::ffff:127.0.0.1
        rep = await peer.exchange(req);
      } else {
        const peer = await TcpPeer.connect(env.port);
        peers.push(peer);
        peer.write(req);
        rep = await peer.recv();
      }
      expect(rep, transport).not.toBeNull();
      const d = decodeReply(rep!, req);
      expect(d.code).toBe(C.AccessAccept);
      expect(pairValue(d, 'Reply-Message')).toBe('127.0.0.1|127.0.0.1|lo|');
      expect(env.listener.stats().drop_unknown_client).toBe(0);
    }
  });

  it('drops and counts packets from an unknown client', async () => {
    const env = await setup({ clients: 'client other {\n ipaddr = 192.0.2.1\n secret = x\n}\n' });
    const peer = await udpPeer(env.port);
    const req = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "hello"');
    expect(await peer.exchange(req, 200)).toBeNull();
    expect(env.listener.stats().drop_unknown_client).toBe(1);
    expect(env.executions()).toBe(0);
  });

  it('logs drops at a limited rate and never shows the secret', async () => {
    const log = new MemoryLogger(false);
    const env = await setup({ clients: 'client other {\n ipaddr = 192.0.2.1\n secret = s3cr3t\n}\n', log });
    const peer = await udpPeer(env.port);
    for (let i = 0; i < 100; i++) peer.send(buildRequest(C.AccessRequest, 'User-Name = "x"', { id: i }));
    await waitFor(() => env.listener.stats().drop_unknown_client === 100);
    const warn = log.lines.filter((l) => l.level === 'warn');
    expect(warn.length).toBeGreaterThan(0);
    expect(warn.length).toBeLessThanOrEqual(6);
    expect(warn[0].msg).toMatch(/unknown client 127\.0\.0\.1/);
    expect(log.text().join('\n')).not.toMatch(/s3cr3t/);
  });

  it('drops a bad Message-Authenticator (wrong secret) and a bad accounting authenticator', async () => {
    const env = await setup();
    const peer = await udpPeer(env.port);
    const req = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "hello"', { secret: 'wrong' });
    expect(await peer.exchange(req, 200)).toBeNull();
    const acct = buildRequest(C.AccountingRequest, 'User-Name = "bob", Acct-Status-Type = Start', { secret: 'wrong' });
    expect(await peer.exchange(acct, 200)).toBeNull();
    const s = env.listener.stats();
    expect(s.drop_bad_message_authenticator).toBe(1);
    expect(s.drop_bad_authenticator).toBe(1);
    expect(env.executions()).toBe(0);
  });

  it('require_message_authenticator = yes (the default) drops Access-Request without it', async () => {
    const env = await setup();
    const peer = await udpPeer(env.port);
    const req = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "hello"', { ma: false });
    expect(await peer.exchange(req, 200)).toBeNull();
    expect(env.listener.stats().drop_missing_message_authenticator).toBe(1);
  });

  it('require_message_authenticator = auto: optional until seen, then required', async () => {
    const env = await setup({ clients: 'client lo {\n ipaddr = 127.0.0.1\n secret = testing123\n require_message_authenticator = auto\n}\n' });
    const peer = await udpPeer(env.port);
    const noMa1 = buildRequest(C.AccessRequest, 'User-Name = "acceptme"', { ma: false, id: 1 });
    const r1 = await peer.exchange(noMa1);
    expect(decodeReply(r1!, noMa1).code).toBe(C.AccessAccept);
    // The reply to an Access-Request always carries a Message-Authenticator.
    expect(decodeReply(r1!, noMa1).hasMa).toBe(true);
    const withMa = buildRequest(C.AccessRequest, 'User-Name = "acceptme"', { ma: true, id: 2 });
    expect(decodeReply((await peer.exchange(withMa))!, withMa).code).toBe(C.AccessAccept);
    const noMa2 = buildRequest(C.AccessRequest, 'User-Name = "acceptme"', { ma: false, id: 3 });
    expect(await peer.exchange(noMa2, 200)).toBeNull();
    expect(env.listener.stats().drop_missing_message_authenticator).toBe(1);
  });

  it('limit_proxy_state = yes drops Proxy-State without Message-Authenticator; Proxy-State is echoed in order', async () => {
    const env = await setup({ clients: 'client lo {\n ipaddr = 127.0.0.1\n secret = testing123\n require_message_authenticator = no\n limit_proxy_state = yes\n}\n' });
    const peer = await udpPeer(env.port);
    const bad = buildRequest(C.AccessRequest, 'User-Name = "acceptme", Proxy-State = 0x01', { ma: false });
    expect(await peer.exchange(bad, 200)).toBeNull();
    expect(env.listener.stats().drop_proxy_state).toBe(1);
    const ok = buildRequest(C.AccessRequest, 'User-Name = "acceptme", Proxy-State = 0x01, Proxy-State = 0x0202', { ma: true, id: 2 });
    const d = decodeReply((await peer.exchange(ok))!, ok);
    expect(d.code).toBe(C.AccessAccept);
    const ps = d.pairs.filter((p) => p.da.name === 'Proxy-State').map((p) => (p.value as Buffer).toString('hex'));
    expect(ps).toEqual(['01', '0202']);
  });

  it('answers a retransmit within cleanup_delay from the cache without running the site again', async () => {
    const env = await setup();
    const peer = await udpPeer(env.port);
    const req = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "hello"', { id: 42 });
    const r1 = await peer.exchange(req);
    const r2 = await peer.exchange(req);
    expect(r1).not.toBeNull();
    expect(r2).toEqual(r1);
    expect(env.executions()).toBe(1);
    const s = env.listener.stats();
    expect(s.dup_cached).toBe(1);
    expect(s.replied).toBe(2);
    // Same ID, new authenticator: a new request.
    const req2 = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "hello"', { id: 42 });
    expect(decodeReply((await peer.exchange(req2))!, req2).code).toBe(C.AccessAccept);
    expect(env.executions()).toBe(2);
  });

  it('a retransmit during processing sends dup to the yielded module and is otherwise ignored', async () => {
    const env = await setup();
    const peer = await udpPeer(env.port);
    const req = buildRequest(C.AccessRequest, 'User-Name = "slow"', { id: 5 });
    peer.send(req);
    await sleep(30);
    peer.send(req);
    const r = await peer.recv(1000);
    expect(decodeReply(r!, req).code).toBe(C.AccessAccept);
    expect(await peer.recv(100)).toBeNull();
    expect(env.signals).toEqual(['dup']);
    expect(env.executions()).toBe(1);
    expect(env.listener.stats().dup_in_progress).toBe(1);
  });

  it('max_request_time cancels a stuck request: no reply, cancel reaches the module', async () => {
    const env = await setup({ config: { maxRequestTime: 0.15 } });
    const peer = await udpPeer(env.port);
    const req = buildRequest(C.AccessRequest, 'User-Name = "stuck"', { id: 6 });
    const t0 = Date.now();
    expect(await peer.exchange(req, 400)).toBeNull();
    expect(env.signals).toEqual(['cancel']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(env.proc.counters.cancelled).toBe(1);
    expect(env.listener.stats().no_reply).toBe(1);
  });

  it('reject_delay delays Access-Reject without blocking other requests', async () => {
    const env = await setup({ config: { rejectDelay: 0.3 } });
    const peer = await udpPeer(env.port);
    const rej = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "bad"', { id: 1 });
    const acc = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "hello"', { id: 2 });
    const t0 = Date.now();
    peer.send(rej);
    peer.send(acc);
    const first = await peer.recv(1000);
    const tFirst = Date.now() - t0;
    const second = await peer.recv(1000);
    const tSecond = Date.now() - t0;
    expect(first![0]).toBe(C.AccessAccept);
    expect(tFirst).toBeLessThan(200);
    expect(second![0]).toBe(C.AccessReject);
    expect(tSecond).toBeGreaterThanOrEqual(280);
  });

  it('answers Status-Server (Access-Accept without a recv Status-Server section)', async () => {
    const env = await setup();
    const peer = await udpPeer(env.port);
    const req = buildRequest(C.StatusServer, '');
    const d = decodeReply((await peer.exchange(req))!, req);
    expect(d.code).toBe(C.AccessAccept);
    expect(d.hasMa).toBe(true);
  });

  it('answers Status-Server with Accounting-Response on an accounting-only listener', async () => {
    const env = await setup({ listen: { types: [C.AccountingRequest, C.StatusServer] } });
    const peer = await udpPeer(env.port);
    const req = buildRequest(C.StatusServer, '');
    // Signed over the Status-Server's Request Authenticator (as radclient 3.2 verifies it), not over zeros.
    const d = decodeReply((await peer.exchange(req))!, req);
    expect(d.code).toBe(C.AccountingResponse);
    expect(d.hasMa).toBe(true);
  });

  it('accounting: Accounting-Response on ok, accounting <Status> runs, no response on fail', async () => {
    const env = await setup();
    const peer = await udpPeer(env.port);
    const start = buildRequest(C.AccountingRequest, 'User-Name = "bob", Acct-Status-Type = Start, Acct-Session-Id = "1"', { id: 1 });
    const d = decodeReply((await peer.exchange(start))!, start);
    expect(d.code).toBe(C.AccountingResponse);
    expect(pairValue(d, 'Reply-Message')).toBe('started');
    const fail = buildRequest(C.AccountingRequest, 'User-Name = "failme", Acct-Status-Type = Stop, Acct-Session-Id = "1"', { id: 2 });
    expect(await peer.exchange(fail, 200)).toBeNull();
    expect(env.listener.stats().no_reply).toBe(1);
  });

  it('CoA and Disconnect: ACK on ok/noop/notfound, NAK on reject/fail', async () => {
    const env = await setup({
      sections: {
        'recv CoA-Request': 'if (User-Name == "nak") {\n reject\n}\nok',
        'send CoA-ACK': 'reply.Reply-Message := "acked"',
        'recv Disconnect-Request': 'if (User-Name == "nak") {\n fail\n}\nnotfound',
      },
    });
    const peer = await udpPeer(env.port);
    const ack = buildRequest(C.CoARequest, 'User-Name = "x"', { id: 1 });
    const d = decodeReply((await peer.exchange(ack))!, ack);
    expect(d.code).toBe(C.CoAACK);
    expect(pairValue(d, 'Reply-Message')).toBe('acked');
    const nak = buildRequest(C.CoARequest, 'User-Name = "nak"', { id: 2 });
    expect(decodeReply((await peer.exchange(nak))!, nak).code).toBe(C.CoANAK);
    const dack = buildRequest(C.DisconnectRequest, 'User-Name = "x"', { id: 3 });
    expect(decodeReply((await peer.exchange(dack))!, dack).code).toBe(C.DisconnectACK);
    const dnak = buildRequest(C.DisconnectRequest, 'User-Name = "nak"', { id: 4 });
    expect(decodeReply((await peer.exchange(dnak))!, dnak).code).toBe(C.DisconnectNAK);
  });

  it('drops packet types not served on the listener', async () => {
    const env = await setup({ listen: { types: [C.AccessRequest] } });
    const peer = await udpPeer(env.port);
    const acct = buildRequest(C.AccountingRequest, 'Acct-Status-Type = Start');
    expect(await peer.exchange(acct, 200)).toBeNull();
    expect(env.listener.stats().drop_type_not_allowed).toBe(1);
  });

  it('enforces max_pps per client', async () => {
    const env = await setup({ clients: 'client lo {\n ipaddr = 127.0.0.1\n secret = testing123\n max_pps = 5\n}\n' });
    const peer = await udpPeer(env.port);
    for (let i = 0; i < 20; i++) peer.send(buildRequest(C.AccessRequest, 'User-Name = "acceptme"', { id: i }));
    await waitFor(() => env.listener.stats().received === 20);
    await sleep(50);
    const s = env.listener.stats();
    expect(s.drop_rate_limited).toBeGreaterThanOrEqual(14);
    expect(s.processed + s.drop_rate_limited).toBe(20);
  });

  it('a junk flood leaves the listener answering, and the counters add up', async () => {
    const env = await setup({ clients: CLIENTS + 'client v6 {\n ipv6addr = ::1\n secret = testing123\n}\n', listen: { recvBuff: 4 << 20 } });
    const peer = await udpPeer(env.port);
    // A second source that is not a client (Linux answers for all of 127/8).
    const stranger = await UdpPeer.open(env.port, '127.0.0.1', '127.0.0.2');
    peers.push(stranger);
    const N = 20000;
    const good = buildRequest(C.AccessRequest, 'User-Name = "acceptme", NAS-Port = 1', { id: 1 });
    let seed = 12345;
    const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; };
    const t0 = Date.now();
    let sent = 0;
    for (let i = 0; i < N && Date.now() - t0 < 10000; i++) {
      let b: Buffer;
      if (i % 2 === 0) {
        // Random bytes.
        b = Buffer.alloc(1 + (rnd() % 200));
        for (let j = 0; j < b.length; j++) b[j] = rnd() & 255;
      } else {
        // A valid packet with a few bytes flipped.
        b = Buffer.from(good);
        for (let k = 0; k < 3; k++) b[rnd() % b.length] = rnd() & 255;
      }
      if (i % 4 === 3) stranger.send(i % 8 === 7 ? good : b);
      else peer.send(b);
      sent++;
      if (i % 50 === 0) await sleep(1); // let the receiver drain (loopback has no flow control)
    }
    const drained = await waitFor(() => env.listener.stats().received >= sent * 0.9, 10000);
    if (!drained) console.log('junk flood: received', env.listener.stats().received, 'of', sent);
    await sleep(100);
    // Still answering.
    const check = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "hello"', { id: 200 });
    let ans: Buffer | null = null;
    for (let i = 0; i < 50 && !ans; i++) {
      peer.send(check);
      const r = await peer.recv(200);
      if (r && r[1] === 200 && r.length > 20) ans = r;
    }
    expect(ans).not.toBeNull();
    expect(decodeReply(ans!, check).code).toBe(C.AccessAccept);
    const s = env.listener.stats();
    // Every packet read was either processed, answered from cache, or dropped and counted.
    expect(s.processed + s.dup_cached + s.dup_in_progress + s.dup_no_reply + totalDrops(s)).toBe(s.received);
    expect(s.drop_internal).toBe(0);
    expect(totalDrops(s)).toBeGreaterThan(s.received * 0.5);
    // Everything from the stranger was dropped as an unknown client, good packets included.
    expect(s.drop_unknown_client).toBeGreaterThan(sent / 4 * 0.9);
    expect(s.received).toBeGreaterThan(sent * 0.5);
  }, 30000);
});

describe('TCP listener (RFC 6613)', () => {
  it('answers requests on a stream, split across writes and coalesced', async () => {
    const env = await setup({ transport: 'tcp' });
    const peer = await TcpPeer.connect(env.port);
    peers.push(peer);
    const a = buildRequest(C.AccessRequest, 'User-Name = "bob", User-Password = "hello"', { id: 1 });
    const b = buildRequest(C.AccountingRequest, 'User-Name = "bob", Acct-Status-Type = Start', { id: 2 });
    // Partial write of a, then the rest of a together with b.
    peer.write(a.subarray(0, 10));
    await sleep(20);
    peer.write(Buffer.concat([a.subarray(10), b]));
    const r1 = await peer.recv();
    const r2 = await peer.recv();
    const byId = new Map([[r1![1], r1!], [r2![1], r2!]]);
    expect(decodeReply(byId.get(1)!, a).code).toBe(C.AccessAccept);
    expect(decodeReply(byId.get(2)!, b).code).toBe(C.AccountingResponse);
    expect(env.listener.stats().tcp_accepted).toBe(1);
  });

  it('closes the connection on garbage and an oversized length, without crashing', async () => {
    const env = await setup({ transport: 'tcp' });
    const p1 = await TcpPeer.connect(env.port);
    peers.push(p1);
    p1.write(Buffer.from([1, 2, 0xff, 0xff, 0, 0, 0, 0]));
    expect(await p1.waitClosed()).toBe(true);
    const p2 = await TcpPeer.connect(env.port);
    peers.push(p2);
    p2.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(await p2.waitClosed()).toBe(true);
    // A structurally bad packet with a plausible length.
    const p3 = await TcpPeer.connect(env.port);
    peers.push(p3);
    const bad = Buffer.alloc(24);
    bad[0] = 1; bad[1] = 1; bad.writeUInt16BE(24, 2); bad[20] = 1; bad[21] = 9; // attribute overflows
    p3.write(bad);
    expect(await p3.waitClosed()).toBe(true);
    expect(env.listener.stats().tcp_closed_bad).toBe(3);
    // Still serving.
    const p4 = await TcpPeer.connect(env.port);
    peers.push(p4);
    const ok = buildRequest(C.AccessRequest, 'User-Name = "acceptme"');
    p4.write(ok);
    expect(decodeReply((await p4.recv())!, ok).code).toBe(C.AccessAccept);
  });
  // Refusals (unknown clients, limits) are tested in tcp-limits.test.ts.
});
