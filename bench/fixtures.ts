/**
 * The deps.md §2 fixtures, in two forms each: FreeRADIUS pair-list text for
 * our codec and attribute arrays for the npm `radius` package. Shared by the
 * codec benchmark and the oracle interop test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The Access-Request attributes as `radius.decode` returns them (138 bytes on the wire with MA). */
export const REQUEST_ATTRS = {
  'User-Name': 'bob.smit@isp.example.net', 'User-Password': 'correct-horse-1', 'NAS-IP-Address': '192.0.2.1',
  'NAS-Port': 42, 'Framed-Route': '10.1.0.0/16 192.0.2.1 1', 'Calling-Station-Id': '02-00-00-00-00-01',
};

/** The Access-Request as pair-list text. */
export const REQUEST_TEXT = Object.entries(REQUEST_ATTRS)
  .map(([k, v]) => `${k} = ${typeof v === 'string' && k !== 'NAS-IP-Address' ? JSON.stringify(v) : v}`)
  .join('\n');

/**
 * The Access-Request in the `radius` package's encode form. A fresh array on
 * every call: `radius.encode` pushes its Message-Authenticator placeholder
 * into the caller's array, and a second encode with that array sends 16 zero
 * bytes as Message-Authenticator.
 */
export const requestLib = (): [string, unknown][] => Object.entries(REQUEST_ATTRS);

/** The Access-Accept as pair-list text (131 bytes on the wire with MA). */
export const ACCEPT_TEXT = [
  'Service-Type = Framed-User', 'Framed-Protocol = PPP', 'Framed-IP-Address = 192.0.2.10',
  'Framed-IP-Netmask = 255.255.255.255', 'Session-Timeout = 3600', 'Idle-Timeout = 600', 'Acct-Interim-Interval = 300',
  'Class = 0x73657373696f6e2d31', 'Reply-Message = "Welcome, bob.s"',
  'Actual-Data-Rate-Upstream = 1024000', 'Actual-Data-Rate-Downstream = 16384000',
].join('\n');

/** The Access-Accept in the `radius` package's encode form (fresh array per call). */
export const acceptLib = (): ([string, unknown] | [string, unknown, unknown])[] => [
  ['Service-Type', 'Framed-User'], ['Framed-Protocol', 'PPP'], ['Framed-IP-Address', '192.0.2.10'],
  ['Framed-IP-Netmask', '255.255.255.255'], ['Session-Timeout', 3600], ['Idle-Timeout', 600],
  ['Acct-Interim-Interval', 300], ['Class', Buffer.from('session-1')], ['Reply-Message', 'Welcome, bob.s'],
  ['Vendor-Specific', 3561, [['Actual-Data-Rate-Upstream', 1024000], ['Actual-Data-Rate-Downstream', 16384000]]],
];

/**
 * The PPPoE benches' site (`bench/pppoe-inject.bench.ts`, `bench/pppoe-site.bench.ts`): every user's
 * password is "secret" (users file `DEFAULT`), `files` then `chap`/`pap`, in `server pppoe`. Writes
 * `users` and `radiusd.conf` into `dir`, with `extra` (an `app` section, say) after the site.
 */
export function writePppoeSite(dir: string, extra = ''): string {
  fs.writeFileSync(path.join(dir, 'users'), 'DEFAULT\tCleartext-Password := "secret"\n');
  const file = path.join(dir, 'radiusd.conf');
  fs.writeFileSync(file, `confdir = ${dir}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
	chap {
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
}
${extra}`);
  return file;
}
