/**
 * Kill/restart under load: our daemon proxies to a FreeRADIUS 3.2 home server
 * (`../shared/bench/peer-freeradius.sh`: users user0001… with five reply attributes) while a
 * closed-loop NAS keeps 16 requests in flight. The home server is SIGKILLed, stays down for
 * 2 s, and is started again on the same port. Checked: every request is answered by our
 * daemon (Access-Accept, or Access-Reject when the home server is unreachable) within
 * response_window plus slack — none is left unanswered — and the Accept throughput after
 * the restart recovers to at least half of the rate before the kill.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketCode } from '../../core/protocol/radius';
import { killHome, relaunchHome, startHome, type Peer } from '../../bench/proxy/peers';
import { sleep, startDaemon, tempDir, type Daemon } from '../daemon/harness';
import { freePorts } from '../interop/freeradius';
import { TestNas } from './nas';

const RW_MS = 1500;
const NAS_TIMEOUT_MS = 5000;

describe('home server killed and restarted during a load run', () => {
  let dir: string;
  let homePort: number;
  let proxyPort: number;
  let home: Peer | undefined;
  let d: Daemon;

  beforeAll(async () => {
    dir = tempDir('proxy-restart');
    [homePort, proxyPort] = await freePorts(2);
    home = await startHome({ dir: path.join(dir, 'home'), authPort: homePort, threads: 2 });
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), `confdir = .
max_request_time = 30
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
	limit_proxy_state = no
}
modules {
	radius home {
		mode = proxy
		transport = udp
		type = Access-Request
		response_window = ${RW_MS}ms
		status_check {
			type = Status-Server
			num_answers_to_alive = 3
		}
		Status-Server {
			initial_rtx_time = 200ms
			max_rtx_time = 400ms
			max_rtx_count = 5
			max_rtx_duration = 1s
		}
		udp {
			ipaddr = 127.0.0.1
			port = ${homePort}
			secret = testing123
		}
		pool {
			start = 2
			min = 2
			max = 4
			reconnect_delay = 200ms
		}
	}
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${proxyPort}
		}
	}
	recv Access-Request {
		home
	}
}
`);
    d = await startDaemon(['-f', '-d', dir]);
  }, 90_000);

  afterAll(async () => {
    if (d) await d.stop();
    await home?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every request is answered (Accept or Reject) within response_window + slack; Accept throughput recovers after the restart', async () => {
    const nas = await TestNas.open(proxyPort);
    const WINDOW = 16;
    const t0 = Date.now();
    const accepts: number[] = [];
    const rejects: number[] = [];
    let sent = 0;
    let unanswered = 0;
    let other = 0;
    let maxMs = 0;
    let running = true;
    let user = 0;
    const loop = async (): Promise<void> => {
      while (running) {
        user = (user % 1000) + 1;
        const u = String(user).padStart(4, '0');
        sent++;
        const r = await nas.request(PacketCode.AccessRequest, `User-Name = "user${u}", User-Password = "pass${u}"`, NAS_TIMEOUT_MS);
        const at = Date.now() - t0;
        if (!r) { unanswered++; continue; }
        maxMs = Math.max(maxMs, r.ms);
        if (r.code === PacketCode.AccessAccept) accepts.push(at);
        else if (r.code === PacketCode.AccessReject) rejects.push(at);
        else other++;
      }
    };
    const loops = Array.from({ length: WINDOW }, () => loop());
    try {
      await sleep(2000);
      const killAt = Date.now() - t0;
      killHome(home!);
      await home!.stop();
      home = undefined;
      await sleep(2000);
      const restartAt = Date.now() - t0;
      home = await relaunchHome({ dir: path.join(dir, 'home'), authPort: homePort });
      const upAt = Date.now() - t0;
      // Until the pool has passed its status checks again, then 2 s of steady state.
      await sleep(3000);
      const endAt = Date.now() - t0;
      running = false;
      await Promise.all(loops);

      const rate = (xs: number[], from: number, to: number): number => xs.filter((t) => t >= from && t < to).length / ((to - from) / 1000);
      const before = rate(accepts, 500, killAt);
      const after = rate(accepts, endAt - 1500, endAt);
      const summary = { sent, accepts: accepts.length, rejects: rejects.length, unanswered, other, maxMs, before, after, killAt, restartAt, upAt, endAt };
      console.log(`kill/restart: ${JSON.stringify(summary)}`);
      expect(unanswered, JSON.stringify(summary)).toBe(0);
      expect(other).toBe(0);
      expect(maxMs, JSON.stringify(summary)).toBeLessThan(RW_MS + 1000);
      expect(before, JSON.stringify(summary)).toBeGreaterThan(100);
      // The outage was answered with Access-Reject (fail fast / timeouts), not silence.
      expect(rejects.filter((t) => t >= killAt && t < upAt).length).toBeGreaterThan(0);
      expect(after, JSON.stringify(summary)).toBeGreaterThanOrEqual(before * 0.5);
      // Nothing but Accepts once it has recovered.
      expect(rejects.filter((t) => t >= endAt - 1500)).toHaveLength(0);
    } finally {
      running = false;
      await Promise.all(loops);
      await nas.close();
    }
  }, 60_000);
});
