import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../log/memory';
import { PacketCode as C } from '../protocol/radius/packet';
import { UdpPeer, buildRequest, decodeReply, pairValue } from '../listen/testing';
import { Server } from './server';

let server: Server | undefined;
let peer: UdpPeer | undefined;
let dir: string | undefined;
afterEach(async () => {
  peer?.close();
  await server?.stop();
  server = peer = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const CONF = `
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
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-authtype-'));
    const file = path.join(dir, 'radiusd.conf');
    fs.writeFileSync(file, CONF);
    server = new Server({ file, log: new MemoryLogger(), triggers: false });
    await server.start();
    const [addr] = server.addresses();
    peer = await UdpPeer.open(addr.port);

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
