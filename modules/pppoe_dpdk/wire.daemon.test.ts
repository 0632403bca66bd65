/**
 * The wire in a real daemon (bin/radiusd.js, the tsc build), against clients written by someone else:
 *
 * - topology made by the test: a veth pair, the concentrator's end in the daemon's namespace, the client's end
 *   in a network namespace of its own (root only; any missing capability fails loudly);
 * - rp-pppoe's `pppoe` (Debian `pppoe`) on the host, in the client namespace: discovery (PADI/PADO/PADR/PADS
 *   with our HMAC AC-Cookie and its Host-Uniq echoed), then a PADT for that session;
 * - a real Linux `pppd` with kernel PPPoE inside user-mode Linux (Debian `user-mode-linux`; this kernel has no
 *   PPP), attached to the client veth: discovery, LCP, CHAP (and PAP with `refuse-chap`), authenticated through
 *   the rings by the site's `files` + `chap`/`pap`, IPCP with the Framed-IP-Address of the reply and the DNS of
 *   the configuration, a ping to the concentrator's address, the reply's rate limit dropping a fast flood, then
 *   pppd's own termination; the site's accounting log gets a Start and a Stop with octets.
 *
 * The guest's /etc/ppp is a tmpfs of the guest (pppd's ip-up scripts and resolv.conf never touch the host's /etc).
 * Every wait is bounded.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startDaemon, writeTempFiles, type Daemon } from '../../test/daemon/harness';

const TAG = `${process.pid % 100000}`;
const NS = `tsrppp${TAG}`;
const AC_IF = `tpa${TAG}`;
const CLI_IF = `tpc${TAG}`;

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20000 });
const inNs = (cmd: string, ...args: string[]): string => sh('ip', ['netns', 'exec', NS, cmd, ...args]);

/** Runs a command with a hard time limit; resolves with its output and status. */
function run(cmd: string, args: string[], ms: number): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('exit', (status) => {
      clearTimeout(t);
      resolve({ status, out });
    });
  });
}

const USERS = `alice	Cleartext-Password := "alice-pw"
	Framed-IP-Address = 10.99.0.10,
	WISPr-Bandwidth-Max-Up = 80000,
	WISPr-Bandwidth-Max-Down = 80000

bob	Cleartext-Password := "bob-pw"
	Framed-IP-Address = 10.99.0.11,
	Reply-Message = "welcome bob"
`;

const conf = (iface: string) => `confdir = .
run_dir = \${confdir}/run
log {
	destination = stdout
}
thread {
	workers = 1
}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
	chap {
	}
	linelog acct_log {
		filename = \${confdir}/acct.log
		format = "%{Acct-Status-Type} %{User-Name} %{Acct-Session-Id} %{Framed-IP-Address} in=%{Acct-Input-Octets} out=%{Acct-Output-Octets} cause=%{Acct-Terminate-Cause} mac=%{Calling-Station-Id}"
	}
}
server pppoe {
	namespace = radius
	recv Access-Request {
		files
		chap
		pap
	}
	authenticate pap {
		pap
	}
	authenticate chap {
		chap
	}
	recv Accounting-Request {
		acct_log
	}
}
app pppoe_dpdk bng {
	site = pppoe
	ring_size = 256
	nas_identifier = "bng-wire"
	wire {
		interface = ${iface}
		ac_name = "tsr-ac"
		service_name = isp
		cookie_secret = "0123456789abcdef-wire-test"
		local_address = 10.99.0.1
		dns = 10.99.0.53
		dns = 10.99.0.54
		restart_timer = 1s
		echo_interval = 2s
	}
}
`;

interface AppHealth { status: string; detail: { total: Record<string, number> } }

async function counters(d: Daemon, dir: string): Promise<Record<string, number>> {
  const file = path.join(dir, 'run', 'radiusd.stats.json');
  fs.rmSync(file, { force: true });
  d.signal('SIGUSR1');
  for (const deadline = Date.now() + 10000; !fs.existsSync(file);) {
    if (Date.now() > deadline) throw new Error('stats file not written');
    await sleep(20);
  }
  const apps = JSON.parse(fs.readFileSync(file, 'utf8')).apps as Record<string, AppHealth>;
  return apps.bng.detail.total;
}

async function until(d: Daemon, dir: string, ok: (c: Record<string, number>) => boolean, ms = 20000): Promise<Record<string, number>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const c = await counters(d, dir);
    if (ok(c)) return c;
    if (Date.now() > deadline) throw new Error(`condition not reached; counters: ${JSON.stringify(c)}`);
    await sleep(200);
  }
}

/** The guest's init: modules, pppd in the background, then the checks; every line the test reads is tagged. */
function guestInit(modulesDir: string, user: string, pass: string, extra: string): string {
  return `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t tmpfs tmp /run; mount -t tmpfs tmp /tmp
# pppd's own files stay in the guest: its ip-up scripts (which rewrite resolv.conf) must never run on the host
mount -t tmpfs tmp /etc/ppp
M=${modulesDir}/kernel
for m in drivers/net/slip/slhc drivers/net/ppp/ppp_generic drivers/net/ppp/pppox drivers/net/ppp/pppoe; do insmod $M/$m.ko; done
ip link set lo up; ip link set vec0 up
timeout 40 pppd nodetach debug logfd 1 plugin pppoe.so nic-vec0 rp_pppoe_service isp user ${user} password ${pass} \\
  noauth noipdefault usepeerdns nodefaultroute noccp novj lcp-echo-interval 0 maxfail 1 \\
  ip-up-script /bin/true ip-down-script /bin/true ${extra} > /tmp/pppd.log 2>&1 &
PPPD=$!
i=0
while [ $i -lt 150 ] && ! ip -4 addr show ppp0 2>/dev/null | grep -q inet; do sleep 0.1; i=$((i+1)); done
echo "GUEST-ADDR $(ip -4 -o addr show ppp0 2>/dev/null)"
if ip -4 addr show ppp0 2>/dev/null | grep -q inet; then
  echo "GUEST-PING $(ping -n -c 3 -W 2 10.99.0.1 | grep -E 'packets transmitted')"
  echo "GUEST-FLOOD $(ping -n -q -c 40 -i 0.01 -s 1400 -W 1 10.99.0.1 | grep -E 'packets transmitted')"
fi
kill $PPPD; i=0
while [ $i -lt 50 ] && kill -0 $PPPD 2>/dev/null; do sleep 0.1; i=$((i+1)); done
sed 's/^/GUEST-PPPD /' /tmp/pppd.log
echo GUEST-DONE
echo o > /proc/sysrq-trigger
`;
}

describe('pppoe_dpdk on the wire: rp-pppoe and pppd in user-mode Linux', () => {
  let d: Daemon;
  let dir: string;
  let acMac = '';
  const umlDir = fs.mkdtempSync('/tmp/tsr-uml-');

  beforeAll(async () => {
    for (const tool of ['/usr/sbin/pppoe', '/usr/sbin/pppd', '/usr/bin/linux.uml', '/sbin/insmod']) {
      if (!fs.existsSync(tool)) throw new Error(`${tool} is missing (scripts/setup.sh installs pppoe, ppp, user-mode-linux, kmod)`);
    }
    sh('ip', ['netns', 'add', NS]);
    sh('ip', ['link', 'add', AC_IF, 'type', 'veth', 'peer', 'name', CLI_IF]);
    sh('ip', ['link', 'set', CLI_IF, 'netns', NS]);
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${AC_IF}/disable_ipv6`, '1');
    inNs('sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1');
    sh('ip', ['link', 'set', AC_IF, 'up']);
    inNs('ip', 'link', 'set', CLI_IF, 'up');
    acMac = fs.readFileSync(`/sys/class/net/${AC_IF}/address`, 'utf8').trim();
    dir = writeTempFiles('pppoe-wire', { 'radiusd.conf': conf(AC_IF), users: USERS });
    d = await startDaemon(['-d', dir, '-f'], { readyMs: 60000 });
    await until(d, dir, () => true);
  });

  afterAll(async () => {
    if (d) await d.stop();
    try { sh('ip', ['link', 'del', AC_IF]); } catch { /* gone with the namespace */ }
    try { sh('ip', ['netns', 'del', NS]); } catch { /* not created */ }
    fs.rmSync(umlDir, { recursive: true, force: true });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rp-pppoe: discovery with our AC-Cookie, then a PADT for its session', async () => {
    const disc = await run('ip', ['netns', 'exec', NS, 'pppoe', '-I', CLI_IF, '-d', '-U', '-S', 'isp'], 20000);
    expect(disc.status, disc.out).toBe(0);
    const m = /^(\d+):([0-9a-f:]{17})$/m.exec(disc.out);
    expect(m, disc.out).not.toBeNull();
    expect(m![2]).toBe(acMac);
    const sid = Number(m![1]);
    expect(sid).toBeGreaterThan(0);
    const c1 = await until(d, dir, (c) => c.wire_pads >= 1);
    expect(c1).toMatchObject({ wire_padi: 1, wire_pado: 1, wire_padr: 1, wire_pads: 1, wire_cookie_invalid: 0 });
    // a service we do not offer gets no PADO (the client gives up after its retries)
    const none = await run('ip', ['netns', 'exec', NS, 'pppoe', '-I', CLI_IF, '-d', '-U', '-S', 'other', '-D', '/dev/null'], 20000);
    expect(none.status).not.toBe(0);
    // the session is still in LCP (rp-pppoe -d exits without PADT); rp-pppoe's -k ends it with a PADT
    const kill = await run('ip', ['netns', 'exec', NS, 'pppoe', '-I', CLI_IF, '-k', '-e', `${sid}:${acMac}`], 10000);
    expect(kill.status, kill.out).toBe(0);
    const c2 = await until(d, dir, (c) => c.wire_padt_in >= 1);
    expect(c2.wire_service_name_errors).toBeGreaterThanOrEqual(1);
    expect(c2.sessions_active).toBe(0);
  }, 60000);

  const guest = async (name: string, user: string, pass: string, extra: string): Promise<string> => {
    const modules = fs.readdirSync('/usr/lib/uml/modules')[0];
    const init = path.join(umlDir, `${name}.sh`);
    fs.writeFileSync(init, guestInit(`/usr/lib/uml/modules/${modules}`, user, pass, extra), { mode: 0o755 });
    const r = await run('ip', ['netns', 'exec', NS, 'timeout', '90', 'linux.uml', 'mem=192M', 'rootfstype=hostfs', 'rootflags=/', 'rw',
      `init=${init}`, `vec0:transport=raw,ifname=${CLI_IF}`, 'con=null', 'con0=null,fd:1'], 100000);
    expect(r.out, r.out).toContain('GUEST-DONE');
    return r.out;
  };

  it('pppd (CHAP): address from the reply, ping, rate limit, termination, accounting Start and Stop', async () => {
    const before = await counters(d, dir);
    const out = await guest('chap', 'alice', 'alice-pw', '');
    expect(out).toMatch(/GUEST-PPPD .*CHAP authentication succeeded/);
    expect(out).toMatch(/GUEST-ADDR .*inet 10\.99\.0\.10 peer 10\.99\.0\.1\//);
    expect(out).toMatch(/GUEST-PPPD primary\s+DNS address 10\.99\.0\.53/);
    expect(out).toMatch(/GUEST-PPPD secondary DNS address 10\.99\.0\.54/);
    expect(out).toMatch(/GUEST-PING 3 packets transmitted, 3 received/);
    // 80 kbit/s up and down: a burst of 1428-byte pings at 100/s mostly does not come back
    const flood = /GUEST-FLOOD 40 packets transmitted, (\d+) received/.exec(out);
    expect(flood, out).not.toBeNull();
    expect(Number(flood![1])).toBeLessThan(30);
    const c = await until(d, dir, (x) => x.wire_acct_sent >= before.wire_acct_sent + 2 && x.acct_answered >= before.acct_answered + 2);
    expect(c.wire_rate_drops).toBeGreaterThan(before.wire_rate_drops);
    expect(c.wire_icmp_replies).toBeGreaterThanOrEqual(before.wire_icmp_replies + 3);
    expect(c.sessions_active).toBe(0);
    const log = fs.readFileSync(path.join(dir, 'acct.log'), 'utf8');
    expect(log).toMatch(/^Start alice \S+ 10\.99\.0\.10 in= out= cause= mac=/m);
    const stop = /^Stop alice \S+ 10\.99\.0\.10 in=(\d+) out=(\d+) cause=User-Request mac=([0-9A-F-]+)$/m.exec(log);
    expect(stop, log).not.toBeNull();
    expect(Number(stop![1])).toBeGreaterThan(3 * 84);
    expect(Number(stop![2])).toBeGreaterThan(3 * 84);
  }, 150000);

  it('pppd (PAP, refusing CHAP): the concentrator falls back to PAP; a wrong password is refused', async () => {
    const out = await guest('pap', 'bob', 'bob-pw', 'refuse-chap');
    expect(out).toMatch(/GUEST-PPPD .*PAP authentication succeeded/);
    expect(out).toMatch(/GUEST-ADDR .*inet 10\.99\.0\.11 /);
    const bad = await guest('papbad', 'bob', 'wrong', 'refuse-chap');
    expect(bad).toMatch(/GUEST-PPPD .*PAP authentication failed/);
    expect(bad).toMatch(/GUEST-ADDR \n/);
    const c = await counters(d, dir);
    expect(c.wire_auth_failed).toBeGreaterThanOrEqual(1);
    expect(c.reject).toBeGreaterThanOrEqual(1);
  }, 300000);
});
