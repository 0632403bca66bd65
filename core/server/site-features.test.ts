/**
 * Site features through a real daemon: `authenticate <name>` defines Auth-Type values, `call <server>`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../log/memory';
import { PacketCode as C } from '../protocol/radius/packet';
import { UdpPeer, buildRequest, decodeReply, pairValue, testDict } from '../../test/support/listen';
import { Server } from './server';

let server: Server | undefined;
let peer: UdpPeer | undefined;
let dir: string | undefined;
/** Starts a server from config text on a free loopback port and opens a client peer to it. */
async function start(conf: string): Promise<UdpPeer> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-site-'));
  const file = path.join(dir, 'radiusd.conf');
  fs.writeFileSync(file, conf);
  server = new Server({ file, log: new MemoryLogger(), triggers: false });
  await server.start();
  peer = await UdpPeer.open(server.addresses()[0].port);
  return peer;
}

afterEach(async () => {
  peer?.close();
  await server?.stop();
  server = peer = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const AUTH_TYPE_CONF = `
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = 0
		}
	}
	recv Access-Request {
		if (User-Name == "viaproxy") {
			control.Auth-Type := proxy
		} else {
			control.Auth-Type := My-Local-Check
		}
	}
	authenticate proxy {
		reply.Reply-Message := "authenticated by proxy"
		ok
	}
	authenticate My-Local-Check {
		reject
	}
}
`;

describe('authenticate <name> defines the Auth-Type value <name> (FreeRADIUS v4)', () => {
  it('control.Auth-Type := proxy loads and selects "authenticate proxy"', async () => {
    const peer = await start(AUTH_TYPE_CONF);

    const req1 = buildRequest(C.AccessRequest, 'User-Name = "viaproxy"', { id: 1 });
    const r1 = await peer.exchange(req1, 5000);
    expect(r1).not.toBeNull();
    const d1 = decodeReply(r1!, req1);
    expect(d1.code).toBe(C.AccessAccept);
    expect(pairValue(d1, 'Reply-Message')).toBe('authenticated by proxy');

    const req2 = buildRequest(C.AccessRequest, 'User-Name = "other"', { id: 2 });
    const r2 = await peer.exchange(req2, 5000);
    expect(decodeReply(r2!, req2).code).toBe(C.AccessReject);
  });
});

// "default" calls "inner", which is defined after it and has no listener of its own.
const CALL_CONF = `
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
security {
	reject_delay = 0
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = 0
		}
	}
	recv Access-Request {
		call inner {
			reply += {
				Reply-Message = "back in default"
			}
		}
		if (User-Name == "child") {
			subrequest {
				User-Name := parent.request.User-Name
				call inner {
				}
				parent.reply.Class := reply.Filter-Id
			}
		}
	}
}
server inner {
	namespace = radius
	recv Access-Request {
		reply.Reply-Message := "inner recv"
		control.Auth-Type := inner-check
	}
	authenticate inner-check {
		if (User-Name == "nobody") {
			reject
		}
		ok
	}
	send Access-Accept {
		reply.Filter-Id := "inner send accept"
	}
	send Access-Reject {
		reply.Filter-Id := "inner send reject"
	}
}
`;

describe('call <server> through the daemon', () => {
  it('runs recv, authenticate and send of the called server on the same request, then the body', async () => {
    const peer = await start(CALL_CONF);
    const dict = testDict();
    const strings = (pkt: ReturnType<typeof decodeReply>, name: string) =>
      pkt.pairs.filter((p) => p.da === dict.resolve(name)).map((p) => (Buffer.isBuffer(p.value) ? p.value.toString() : p.value));

    // The called server decided Access-Accept (reply.Packet-Type), and its sections edited our reply.
    const req1 = buildRequest(C.AccessRequest, 'User-Name = "bob"', { id: 1 });
    const r1 = decodeReply((await peer.exchange(req1, 5000))!, req1);
    expect(r1.code).toBe(C.AccessAccept);
    expect(strings(r1, 'Reply-Message')).toEqual(['inner recv', 'back in default']);
    expect(strings(r1, 'Filter-Id')).toEqual(['inner send accept']);

    const req2 = buildRequest(C.AccessRequest, 'User-Name = "nobody"', { id: 2 });
    const r2 = decodeReply((await peer.exchange(req2, 5000))!, req2);
    expect(r2.code).toBe(C.AccessReject);
    expect(strings(r2, 'Filter-Id')).toEqual(['inner send reject']);

    // Inside a subrequest the called server edits the child's lists only.
    const req3 = buildRequest(C.AccessRequest, 'User-Name = "child"', { id: 3 });
    const r3 = decodeReply((await peer.exchange(req3, 5000))!, req3);
    expect(r3.code).toBe(C.AccessAccept);
    expect(strings(r3, 'Class')).toEqual(['inner send accept']);
    expect(strings(r3, 'Reply-Message')).toEqual(['inner recv', 'back in default']);
  });
});

// %config(path): items of the loaded configuration, read from a policy.
const CONFIG_XLAT_CONF = `
name = tsradius-test
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
security {
	reject_delay = 0
	max_attributes = 123
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = 0
		}
	}
	recv Access-Request {
		reply.Reply-Message := "%config(name) %config('security.max_attributes') [%config(security.no_such_item)]"
		control.Auth-Type := Accept
	}
}
`;

describe('%config() reads the configuration (FreeRADIUS v4 xlat reference)', () => {
  it('returns top-level and nested items, and nothing for a missing one', async () => {
    const peer = await start(CONFIG_XLAT_CONF);
    const req = buildRequest(C.AccessRequest, 'User-Name = "bob"', { id: 7 });
    const r = await peer.exchange(req, 5000);
    expect(r).not.toBeNull();
    expect(pairValue(decodeReply(r!, req), 'Reply-Message')).toBe('tsradius-test 123 []');
  });
});
