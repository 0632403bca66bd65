/**
 * Our daemon as a proxy with `workers = 2` (node:cluster): every worker must have its own
 * upstream sockets. A non-exclusive UDP bind of port 0 in a cluster worker goes through the
 * primary, which hands the same socket to every worker, so replies would reach the wrong
 * worker. Checked: every request is answered with the home server's Accept, the home server
 * sees one source port per worker connection, and the limits are divided per worker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketCode } from '../../core/protocol/radius';
import { startDaemon, tempDir, type Daemon } from '../daemon/harness';
import { freePorts } from '../interop/freeradius';
import { startFaultServer, type FaultServer } from './fault-server';
import { pairValue, TestNas } from './nas';

describe('radiusd as a proxy with 2 cluster workers', () => {
  let home: FaultServer;
  let d: Daemon;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    home = await startFaultServer({ plan: { users: { bob: 'hello' }, replyAttrs: 'Reply-Message = "home"' } });
    [port] = await freePorts(1);
    dir = tempDir('proxy-cluster');
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), `confdir = .
log {
	destination = stdout
}
security {
	reject_delay = 0
}
thread {
	workers = 2
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
	require_message_authenticator = no
	limit_proxy_state = no
}
modules {
	radius home {
		mode = proxy
		type = Access-Request
		response_window = 3s
		max_outstanding = 1000
		status_check {
			type = Status-Server
			num_answers_to_alive = 1
		}
		udp {
			ipaddr = 127.0.0.1
			port = ${home.port}
			secret = testing123
		}
		pool {
			start = 2
			min = 2
			max = 4
		}
	}
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		type = Status-Server
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
			recv_buff = 4194304
		}
	}
	recv Access-Request {
		home
	}
	recv Status-Server {
		reply.Reply-Message := "%home.stats('connections')"
		ok
	}
}
`);
    d = await startDaemon(['-f', '-d', dir]);
  }, 60_000);

  afterAll(async () => {
    if (d) await d.stop();
    await home?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every request is answered by the home server; each worker has its own sockets', async () => {
    // Let both workers pass their status checks.
    const t0 = Date.now();
    while (Object.keys(home.stats.bySource).length < 4 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
    const nases = await Promise.all(Array.from({ length: 8 }, () => TestNas.open(port)));
    try {
      // 8 NASes with 16 requests in flight each (a burst of 400 at once would overflow the
      // listener's socket buffer on a kernel with a small rmem_max, which is not what this tests).
      const replies: (Awaited<ReturnType<TestNas['request']>>)[] = [];
      await Promise.all(nases.map(async (nas) => {
        for (let i = 0; i < 50; i += 16) {
          const batch = await Promise.all(Array.from({ length: Math.min(16, 50 - i) }, () =>
            nas.request(PacketCode.AccessRequest, 'User-Name = "bob", User-Password = "hello"', 4000)));
          replies.push(...batch);
        }
      }));
      const codes = replies.map((r) => r?.code ?? 0);
      expect(codes.filter((c) => c === PacketCode.AccessAccept), JSON.stringify({ home: home.stats, counts: codes.reduce<Record<number, number>>((a, c) => ({ ...a, [c]: (a[c] ?? 0) + 1 }), {}) })).toHaveLength(400);
      expect(replies.every((r) => r && pairValue(r.pairs, 'Reply-Message') === 'home')).toBe(true);
      // 2 workers × floor(pool.max 4 / 2) = 2 connections each (start = 2): 4 distinct source ports.
      const sources = Object.keys(home.stats.bySource);
      expect(sources.length).toBeGreaterThanOrEqual(4);
      expect(sources.length).toBeLessThanOrEqual(4);
      expect(home.stats.byCode[PacketCode.AccessRequest]).toBe(400);
    } finally {
      await Promise.all(nases.map((n) => n.close()));
    }
  });

  it('SIGUSR1 on the primary writes the workers\' metrics, merged over IPC, as the stats file', async () => {
    const file = path.join(dir, 'radiusd.stats.json');
    d.signal('SIGUSR1');
    const t0 = Date.now();
    while (!fs.existsSync(file) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    const stats = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(stats.workers).toBe(2);
    expect(Object.keys(stats.listeners)).toEqual(['default.listen0']);
    // Both workers' counters: the 400 proxied requests (and the probes) whichever worker read them.
    expect(stats.total.received).toBeGreaterThanOrEqual(400);
    expect(stats.total.replied).toBeGreaterThanOrEqual(400);
    expect(stats.listeners['default.listen0'].received).toBe(stats.total.received);
    expect(stats.total.drop_total).toBe(0);
  });
});
