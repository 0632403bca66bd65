/**
 * The daemon's TCP listener under descriptor exhaustion (issue 8 item 3): with the connection
 * limits switched off and `ulimit -n 48`, a flood of held connections makes accept() fail with
 * EMFILE. The daemon must stay up and serve again once the flood is gone; the new `limit { }`
 * items are accepted by `radiusd -C` and a bad value is a located error.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketCode as C } from '../../core/protocol/radius/packet';
import { buildRequest, decodeReply, TcpPeer } from '../support/listen';
import { freePorts } from '../interop/freeradius';
import { checkConfig, sleep, startDaemon, tempDir, type Daemon } from './harness';

function conf(port: number, limit: string): string {
  return `confdir = .
log {
	destination = stdout
}
security {
	reject_delay = 0
}
thread {
	workers = 1
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
	require_message_authenticator = no
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		transport = tcp
		tcp {
			ipaddr = 127.0.0.1
			port = ${port}
		}
		limit {
${limit}
		}
	}
	recv Access-Request {
		control.Auth-Type := ::Accept
	}
}
`;
}

describe('radiusd TCP listener: descriptor exhaustion', () => {
  let d: Daemon;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    [port] = await freePorts(1);
    dir = tempDir('tcp-emfile');
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf(port, '\t\t\tmax_connections = 0\n\t\t\tmax_connections_per_client = 0'));
    d = await startDaemon(['-d', dir, '-f'], { fdLimit: 48 });
  }, 30000);

  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('survives EMFILE on accept and serves once descriptors are free again', async () => {
    const socks: net.Socket[] = [];
    let connected = 0;
    await Promise.all(Array.from({ length: 200 }, () => new Promise<void>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      socks.push(s);
      s.on('connect', () => { connected++; resolve(); });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    })));
    await sleep(1000);
    expect(connected).toBeGreaterThan(48); // more than the daemon can hold
    expect(d.proc.exitCode).toBeNull();
    for (const s of socks) s.destroy();
    // Serving again (retry while the daemon closes the flood's sockets).
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      try {
        const p = await TcpPeer.connect(port);
        const req = buildRequest(C.AccessRequest, 'User-Name = "after"');
        p.write(req);
        const r = await p.recv(2000);
        p.close();
        ok = r !== null && decodeReply(r, req).code === C.AccessAccept;
      } catch { /* refused while busy */ }
      if (!ok) await sleep(250);
    }
    expect(ok).toBe(true);
    expect(d.proc.exitCode).toBeNull();
  }, 60000);
});

describe('radiusd -C: listen limit { }', () => {
  it('accepts the TCP limits and locates a bad value', () => {
    const good = tempDir('tcp-limits-ok');
    const bad = tempDir('tcp-limits-bad');
    try {
      fs.writeFileSync(path.join(good, 'radiusd.conf'),
        conf(1812, '\t\t\tmax_connections = 16\n\t\t\tmax_connections_per_client = 4\n\t\t\tidle_timeout = 30\n\t\t\tread_timeout = 5\n\t\t\tlifetime = 0'));
      expect(checkConfig(good).code).toBe(0);
      fs.writeFileSync(path.join(bad, 'radiusd.conf'), conf(1812, '\t\t\tmax_connections_per_client = -1'));
      const r = checkConfig(bad);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/radiusd\.conf\[\d+\]: .*max_connections_per_client/);
    } finally {
      fs.rmSync(good, { recursive: true, force: true });
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });
});
