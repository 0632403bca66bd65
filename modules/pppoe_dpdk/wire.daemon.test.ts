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
import { radclient, sleep, startDaemon, writeTempFiles, type Daemon } from '../../test/daemon/harness';
import { freePorts, startFreeRadius, USERS as FR_USERS, type FreeRadiusPeer } from '../../test/interop/freeradius';

const TAG = `${process.pid % 100000}`;
const NS = `tsrppp${TAG}`;
const AC_IF = `tpa${TAG}`;
const CLI_IF = `tpc${TAG}`;
/** The uplink: our end in the daemon's namespace, the host behind it (10.98.0.2) in a namespace of its own. */
const UP_NS = `tsrup${TAG}`;
const UP_IF = `tpu${TAG}`;
const UP_HOST_IF = `tph${TAG}`;

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
	Actual-Data-Rate-Upstream = 1000000,
	Maximum-Data-Rate-Downstream = 2000000,
	Reply-Message = "welcome bob"
`;

const ADMIN_TOKEN = 'admin-token-wire-test';

const conf = (iface: string, coaPort: number, adminPort = 0, uplinkIf = '') => `confdir = .
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
${uplinkIf ? `		ipv6cp = yes
` : ''}${uplinkIf ? `		uplink {
			interface = ${uplinkIf}
			address = 10.98.0.1
			gateway = 10.98.0.2
		}
` : ''}	}
	coa {
		port = ${coaPort}
		secret = "coa-secret"
	}
}
${adminPort ? `app admin {
	port = ${adminPort}
	token = "${ADMIN_TOKEN}"
}
` : ''}`;

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

/** A guest that keeps its session until the concentrator ends it (at most `holdS` seconds). */
function guestHold(modulesDir: string, user: string, pass: string, holdS: number): string {
  return guestInit(modulesDir, user, pass, '')
    .replace(/if ip -4 addr show ppp0[\s\S]*?\nfi\n/, 'echo GUEST-UP\n')
    .replace(/kill \$PPPD\n/, `for i in $(seq 1 ${holdS}); do kill -0 $PPPD 2>/dev/null || break; sleep 1; done\nkill $PPPD 2>/dev/null\n`);
}

/** The guest's init: modules, pppd in the background, then the checks; every line the test reads is tagged. */
function guestInit(modulesDir: string, user: string, pass: string, extra: string): string {
  return `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t tmpfs tmp /run; mount -t tmpfs tmp /tmp
# pppd's own files stay in the guest: its ip-up scripts (which rewrite resolv.conf) must never run on the host
mount -t tmpfs tmp /etc/ppp
M=${modulesDir}/kernel
for m in drivers/net/slip/slhc drivers/net/ppp/ppp_generic drivers/net/ppp/pppox drivers/net/ppp/pppoe lib/crc-ccitt net/ipv6/ipv6; do insmod $M/$m.ko; done
ip link set lo up; ip link set vec0 up
timeout 90 pppd nodetach debug logfd 1 plugin pppoe.so nic-vec0 rp_pppoe_service isp user ${user} password ${pass} \\
  noauth noipdefault usepeerdns nodefaultroute noccp novj lcp-echo-interval 0 maxfail 1 \\
  ip-up-script /bin/true ip-down-script /bin/true ${extra} > /tmp/pppd.log 2>&1 &
PPPD=$!
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  grep -q 'remote IP address' /tmp/pppd.log && break
  grep -q 'Connection terminated' /tmp/pppd.log && break
  sleep 1
done
echo "GUEST-ADDR $(ip -4 -o addr show ppp0 2>/dev/null)"
if ip -4 addr show ppp0 2>/dev/null | grep -q inet; then
  echo "GUEST-PING $(ping -n -c 3 -W 2 10.99.0.1 | grep -E 'packets transmitted')"
  echo "GUEST-FLOOD $(ping -n -q -c 40 -i 0.01 -s 1400 -W 1 10.99.0.1 | grep -E 'packets transmitted')"
  ip route add 10.98.0.0/24 dev ppp0
  echo "GUEST-UPLINK $(ping -n -c 3 -W 2 10.98.0.2 | grep -E 'packets transmitted')"
  echo "GUEST-UPFLOOD $(ping -n -q -c 40 -i 0.01 -s 1400 -W 1 10.98.0.2 | grep -E 'packets transmitted')"
fi
kill $PPPD
for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 $PPPD 2>/dev/null || break; sleep 0.5; done
sed 's/^/GUEST-PPPD /' /tmp/pppd.log
echo GUEST-DONE
echo o > /proc/sysrq-trigger
`;
}

describe('pppoe_dpdk on the wire: rp-pppoe and pppd in user-mode Linux', () => {
  let d: Daemon;
  let dir: string;
  let acMac = '';
  let coaPort = 0;
  let adminPort = 0;
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
    // the uplink: no address on our end, and the kernel must neither route what arrives there nor answer ARP
    // (the concentrator does both, from user space)
    sh('ip', ['netns', 'add', UP_NS]);
    sh('ip', ['link', 'add', UP_IF, 'type', 'veth', 'peer', 'name', UP_HOST_IF]);
    sh('ip', ['link', 'set', UP_HOST_IF, 'netns', UP_NS]);
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${UP_IF}/disable_ipv6`, '1');
    fs.writeFileSync(`/proc/sys/net/ipv4/conf/${UP_IF}/forwarding`, '0');
    sh('ip', ['link', 'set', UP_IF, 'up']);
    sh('ip', ['netns', 'exec', UP_NS, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    sh('ip', ['netns', 'exec', UP_NS, 'ip', 'addr', 'add', '10.98.0.2/24', 'dev', UP_HOST_IF]);
    sh('ip', ['netns', 'exec', UP_NS, 'ip', 'link', 'set', UP_HOST_IF, 'up']);
    sh('ip', ['netns', 'exec', UP_NS, 'ip', 'route', 'add', '10.99.0.0/24', 'via', '10.98.0.1']);
    [coaPort, adminPort] = await freePorts(2);
    dir = writeTempFiles('pppoe-wire', { 'radiusd.conf': conf(AC_IF, coaPort, adminPort, UP_IF), users: USERS });
    d = await startDaemon(['-d', dir, '-f'], { readyMs: 60000 });
    await until(d, dir, () => true);
  });

  afterAll(async () => {
    if (d) await d.stop();
    try { sh('ip', ['link', 'del', AC_IF]); } catch { /* gone with the namespace */ }
    try { sh('ip', ['netns', 'del', NS]); } catch { /* not created */ }
    try { sh('ip', ['link', 'del', UP_IF]); } catch { /* gone with the namespace */ }
    try { sh('ip', ['netns', 'del', UP_NS]); } catch { /* not created */ }
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
    // rp-pppoe -d exits without PADT, leaving the session in LCP; its -k ends it with a PADT
    const kill = await run('ip', ['netns', 'exec', NS, 'pppoe', '-I', CLI_IF, '-k', '-e', `${sid}:${acMac}`], 10000);
    expect(kill.status, kill.out).toBe(0);
    const c2 = await until(d, dir, (c) => c.wire_padt_in >= 1);
    expect(c2).toMatchObject({ sessions_active: 0, sessions_closed: 1, wire_padt_out: 0 });
    // a service we do not offer gets no PADO (the client gives up after its retries)
    const none = await run('ip', ['netns', 'exec', NS, 'pppoe', '-I', CLI_IF, '-d', '-U', '-S', 'other'], 30000);
    expect(none.status).not.toBe(0);
    const c3 = await counters(d, dir);
    expect(c3.wire_service_name_errors).toBeGreaterThanOrEqual(1);
    expect(c3.wire_pado).toBe(1);
  }, 60000);

  const guest = async (name: string, user: string, pass: string, extra: string, holdS = 0): Promise<string> => {
    const modules = `/usr/lib/uml/modules/${fs.readdirSync('/usr/lib/uml/modules')[0]}`;
    const init = path.join(umlDir, `${name}.sh`);
    fs.writeFileSync(init, holdS ? guestHold(modules, user, pass, holdS) : guestInit(modules, user, pass, extra), { mode: 0o755 });
    const r = await run('ip', ['netns', 'exec', NS, 'timeout', '90', 'linux.uml', 'mem=192M', 'rootfstype=hostfs', 'rootflags=/', 'rw',
      `init=${init}`, `vec0:transport=raw,ifname=${CLI_IF}`, 'con=null', 'con0=null,fd:1'], 100000);
    expect(r.out, r.out).toContain('GUEST-DONE');
    return r.out;
  };

  it('pppd (CHAP): address from the reply, ping, rate limit, termination, accounting Start and Stop', async () => {
    const before = await counters(d, dir);
    const out = await guest('chap', 'alice', 'alice-pw', '+ipv6');
    expect(out).toMatch(/GUEST-PPPD .*CHAP authentication succeeded/);
    expect(out).toMatch(/GUEST-ADDR .*inet 10\.99\.0\.10 peer 10\.99\.0\.1\//);
    expect(out).toMatch(/GUEST-PPPD primary\s+DNS address 10\.99\.0\.53/);
    expect(out).toMatch(/GUEST-PPPD secondary DNS address 10\.99\.0\.54/);
    // IPV6CP (ipv6cp = yes; pppd +ipv6): both interface identifiers negotiated, the link-local addresses set
    expect(out).toMatch(/GUEST-PPPD local\s+LL address fe80::/);
    expect(out).toMatch(/GUEST-PPPD remote LL address fe80::/);
    expect(out).toMatch(/GUEST-PING 3 packets transmitted, 3 received/);
    // 80 kbit/s up and down (10,000 bytes/s, burst 3,000 bytes): 1428-byte pings asked at 100/s. What may come
    // back depends on how long the guest really took to send them (a loaded user-mode Linux is slower than
    // 100/s), so the bound is computed from ping's own elapsed time: burst + rate × time, in echoes.
    const flood = /GUEST-FLOOD 40 packets transmitted, (\d+) received.*time (\d+)ms/.exec(out);
    expect(flood, out).not.toBeNull();
    const bound = Math.floor((3000 + 10000 * (Number(flood![2]) / 1000)) / 1428) + 1;
    expect(Number(flood![1]), flood![0]).toBeLessThanOrEqual(Math.min(bound, 39));
    // forwarded through the uplink to a host in another namespace and back (ARP for the next hop from user space)
    expect(out).toMatch(/GUEST-UPLINK 3 packets transmitted, 3 received/);
    const upFlood = /GUEST-UPFLOOD 40 packets transmitted, (\d+) received.*time (\d+)ms/.exec(out);
    expect(upFlood, out).not.toBeNull();
    const upBound = Math.floor((3000 + 10000 * (Number(upFlood![2]) / 1000)) / 1428) + 1;
    expect(Number(upFlood![1]), upFlood![0]).toBeLessThanOrEqual(Math.min(upBound, 39));
    const c = await until(d, dir, (x) => x.wire_acct_sent >= before.wire_acct_sent + 2 && x.acct_answered >= before.acct_answered + 2);
    expect(c.wire_ipv6cp_up).toBeGreaterThan(before.wire_ipv6cp_up);
    expect(c.wire_fwd_up - before.wire_fwd_up).toBeGreaterThanOrEqual(3 + Number(upFlood![1]));
    expect(c.wire_fwd_down - before.wire_fwd_down).toBeGreaterThanOrEqual(3 + Number(upFlood![1]));
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
    const out = await guest('pap', 'bob', 'bob-pw', 'refuse-chap refuse-mschap refuse-mschap-v2');
    expect(out).toMatch(/GUEST-PPPD .*PAP authentication succeeded/);
    expect(out).toMatch(/GUEST-ADDR .*inet 10\.99\.0\.11 /);
    const bad = await guest('papbad', 'bob', 'wrong', 'refuse-chap refuse-mschap refuse-mschap-v2');
    expect(bad).toMatch(/GUEST-PPPD .*PAP authentication failed/);
    expect(bad).toMatch(/^GUEST-ADDR *\r?$/m);
    const c = await counters(d, dir);
    expect(c.wire_auth_failed).toBeGreaterThanOrEqual(1);
    expect(c.reject).toBeGreaterThanOrEqual(1);
  }, 300000);

  /** Waits (bounded) for a Start of `user` in the accounting log; returns its Acct-Session-Id. */
  const startOf = async (user: string, after: number): Promise<string> => {
    for (const deadline = Date.now() + 120000; Date.now() < deadline; await sleep(200)) {
      const log = fs.existsSync(path.join(dir, 'acct.log')) ? fs.readFileSync(path.join(dir, 'acct.log'), 'utf8').slice(after) : '';
      const m = new RegExp(`^Start ${user} (\\S+) `, 'm').exec(log);
      if (m) return m[1];
    }
    throw new Error(`no Start for ${user}`);
  };
  const logSize = (): number => (fs.existsSync(path.join(dir, 'acct.log')) ? fs.statSync(path.join(dir, 'acct.log')).size : 0);

  it('Disconnect-Request from the AAA side ends a live pppd session (PADT, Stop Admin-Reset); an unknown session is NAKed', async () => {
    const mark = logSize();
    const running = guest('disc', 'bob', 'bob-pw', '', 40);
    const id = await startOf('bob', mark);
    const nak = await radclient(`127.0.0.1:${coaPort}`, 'disconnect', 'coa-secret', 'Acct-Session-Id = "1234-FFF0"\n', ['-r', '1', '-t', '3']);
    expect(nak.stdout + nak.stderr).toMatch(/Disconnect-NAK/);
    expect(nak.stdout).toMatch(/Error-Cause = Session-Context-Not-Found/);
    const ack = await radclient(`127.0.0.1:${coaPort}`, 'disconnect', 'coa-secret', `Acct-Session-Id = "${id}"\n`, ['-r', '1', '-t', '3']);
    expect(ack.stdout + ack.stderr).toMatch(/Disconnect-ACK/);
    const out = await running;
    expect(out).toMatch(/GUEST-PPPD .*(LCP terminated by peer|PADT)/);
    const log = fs.readFileSync(path.join(dir, 'acct.log'), 'utf8').slice(mark);
    expect(log).toMatch(new RegExp(`^Stop bob ${id} 10\\.99\\.0\\.11 in=\\d+ out=\\d+ cause=Admin-Reset `, 'm'));
  }, 150000);

  it('operator: list and inspect a live pppd session (RFC 4679 rates from the Accept, then from a CoA), terminate it from pppoe-dpdk (PADT, Stop Admin-Reset)', async () => {
    const mark = logSize();
    const running = guest('oper', 'bob', 'bob-pw', '', 40);
    const id = await startOf('bob', mark);
    const api = `http://127.0.0.1:${adminPort}`;
    const get = async (p: string) => {
      const r = await fetch(`${api}${p}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      return { status: r.status, body: await r.json() as Record<string, unknown> };
    };
    expect((await get('/api/apps/sessions')).body).toEqual({ apps: [{ kind: 'pppoe_dpdk', name: 'bng' }] });
    const list = await get('/api/apps/bng/sessions');
    expect(list.status).toBe(200);
    const sessions = list.body.sessions as Record<string, unknown>[];
    const s = sessions.find((x) => x.acctSessionId === id);
    expect(s, JSON.stringify(list.body)).toMatchObject({ phase: 'up', up: true, user: 'bob', ip: '10.99.0.11', rateUp: 1000000, rateDown: 2000000, auth: 'chap', dns: ['10.99.0.53', '10.99.0.54'] });
    expect(JSON.stringify(list.body)).not.toContain('bob-pw');
    expect((await get(`/api/apps/bng/sessions?user=nobody`)).body).toMatchObject({ count: 0 });
    expect((await get(`/api/apps/bng/sessions/${id}`)).body).toMatchObject({ id: s!.id, user: 'bob' });
    expect((await get('/api/apps/bng/sessions/65000')).status).toBe(404);
    expect((await get('/api/apps/nope/sessions')).status).toBe(404);
    // a CoA with RFC 4679 rates (as the VX site's fair-use policy sends) replaces both directions of the live session
    const coa = await radclient(`127.0.0.1:${coaPort}`, 'coa', 'coa-secret', `Acct-Session-Id = "${id}"\nActual-Data-Rate-Upstream = 40000\nActual-Data-Rate-Downstream = 48000\n`, ['-r', '1', '-t', '3']);
    expect(coa.stdout + coa.stderr).toMatch(/CoA-ACK/);
    expect((await get(`/api/apps/bng/sessions/${id}`)).body).toMatchObject({ rateUp: 40000, rateDown: 48000 });
    const cli = (...args: string[]) => run('node', [path.resolve(__dirname, '../../bin/pppoe-dpdk.js'), ...args, '--admin', api, '--token', ADMIN_TOKEN, '--app', 'bng'], 30000);
    const table = await cli('sessions');
    expect(table.status, table.out).toBe(0);
    expect(table.out).toMatch(new RegExp(`^${s!.id}\\s+\\d+\\s+up\\s+\\S+\\s+bob\\s+10\\.99\\.0\\.11 .*${id}$`, 'm'));
    const one = await cli('session', id);
    expect(one.status, one.out).toBe(0);
    expect(one.out).toMatch(/^user\s+bob$/m);
    expect((await cli('terminate', '65000')).status).toBe(1);
    const t = await cli('terminate', id);
    expect(t.status, t.out).toBe(0);
    const out = await running;
    expect(out).toMatch(/GUEST-PPPD .*(LCP terminated by peer|PADT)/);
    const log = fs.readFileSync(path.join(dir, 'acct.log'), 'utf8').slice(mark);
    expect(log).toMatch(new RegExp(`^Stop bob ${id} 10\\.99\\.0\\.11 in=\\d+ out=\\d+ cause=Admin-Reset `, 'm'));
    expect((await get(`/api/apps/bng/sessions/${id}`)).status).toBe(404);
  }, 150000);

  it('CoA-Request changes the Session-Timeout of a live session, which then ends it', async () => {
    const mark = logSize();
    const running = guest('coa', 'alice', 'alice-pw', '', 40);
    const id = await startOf('alice', mark);
    const ack = await radclient(`127.0.0.1:${coaPort}`, 'coa', 'coa-secret', `Acct-Session-Id = "${id}"\nSession-Timeout = 2\n`, ['-r', '1', '-t', '3']);
    expect(ack.stdout + ack.stderr).toMatch(/CoA-ACK/);
    const out = await running;
    expect(out).toMatch(/GUEST-UP/);
    const log = fs.readFileSync(path.join(dir, 'acct.log'), 'utf8').slice(mark);
    expect(log).toMatch(new RegExp(`^Stop alice ${id} 10\\.99\\.0\\.10 in=\\d+ out=\\d+ cause=Session-Timeout `, 'm'));
    const c = await counters(d, dir);
    expect(c.sessions_expired).toBeGreaterThanOrEqual(1);
  }, 150000);
});

describe('pppoe_dpdk on the wire: pppd authenticated by FreeRADIUS 3.2 as the external server', () => {
  const ns = `${NS}f`;
  const acIf = `${AC_IF}f`;
  const cliIf = `${CLI_IF}f`;
  let fr: FreeRadiusPeer;
  let d: Daemon;
  let dir: string;
  const umlDir = fs.mkdtempSync('/tmp/tsr-uml-');

  beforeAll(async () => {
    fr = await startFreeRadius();
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['link', 'add', acIf, 'type', 'veth', 'peer', 'name', cliIf]);
    sh('ip', ['link', 'set', cliIf, 'netns', ns]);
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${acIf}/disable_ipv6`, '1');
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    sh('ip', ['link', 'set', acIf, 'up']);
    sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', cliIf, 'up']);
    const base = conf(acIf, 0).replace(/\tcoa \{[\s\S]*?\n\t\}\n/, '');
    const proxied = base
      .replace('modules {', `modules {
	radius fr {
		mode = proxy
		transport = udp
		type = Access-Request
		response_window = 3s
		udp {
			ipaddr = 127.0.0.1
			port = ${fr.authPort}
			secret = testing123
		}
	}`)
      .replace(/recv Access-Request \{[\s\S]*?\n\t\}\n\tauthenticate pap \{[\s\S]*?\n\t\}\n\tauthenticate chap \{[\s\S]*?\n\t\}\n/, 'recv Access-Request {\n\t\tfr\n\t}\n');
    dir = writeTempFiles('pppoe-wire-fr', { 'radiusd.conf': proxied, users: USERS });
    d = await startDaemon(['-d', dir, '-f'], { readyMs: 60000 });
  });

  afterAll(async () => {
    if (d) await d.stop();
    try { sh('ip', ['link', 'del', acIf]); } catch { /* gone with the namespace */ }
    try { sh('ip', ['netns', 'del', ns]); } catch { /* not created */ }
    await fr?.stop();
    fs.rmSync(umlDir, { recursive: true, force: true });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('CHAP proxied to FreeRADIUS: the address FreeRADIUS assigned, a ping, accounting Start and Stop', async () => {
    const modules = `/usr/lib/uml/modules/${fs.readdirSync('/usr/lib/uml/modules')[0]}`;
    const init = path.join(umlDir, 'fr.sh');
    fs.writeFileSync(init, guestInit(modules, 'bob', FR_USERS.bob.password, ''), { mode: 0o755 });
    const r = await run('ip', ['netns', 'exec', ns, 'timeout', '90', 'linux.uml', 'mem=192M', 'rootfstype=hostfs', 'rootflags=/', 'rw',
      `init=${init}`, `vec0:transport=raw,ifname=${cliIf}`, 'con=null', 'con0=null,fd:1'], 100000);
    expect(r.out, r.out).toContain('GUEST-DONE');
    expect(r.out).toMatch(/GUEST-PPPD .*CHAP authentication succeeded/);
    expect(r.out).toMatch(/GUEST-ADDR .*inet 192\.0\.2\.10 peer 10\.99\.0\.1\//);
    expect(r.out).toMatch(/GUEST-PING 3 packets transmitted, 3 received/);
    for (const deadline = Date.now() + 10000; Date.now() < deadline && !/^Stop bob/m.test(fs.existsSync(path.join(dir, 'acct.log')) ? fs.readFileSync(path.join(dir, 'acct.log'), 'utf8') : '');) await sleep(200);
    const log = fs.readFileSync(path.join(dir, 'acct.log'), 'utf8');
    expect(log).toMatch(/^Start bob \S+ 192\.0\.2\.10 /m);
    expect(log).toMatch(/^Stop bob \S+ 192\.0\.2\.10 in=\d+ out=\d+ cause=User-Request /m);
  }, 150000);
});
