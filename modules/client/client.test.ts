/**
 * The `client` module through a real server (config loader, client tables, unlang), requests run
 * in-process (`Server.inject`) from chosen source addresses.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger, Server, printPairList } from '../../core';
import { BUILTIN_MODULES } from '../../test/support/builtins';
import { inertListener } from '../../test/support/listen';

let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const CLIENTS = `
client nas1 {
	ipaddr = 192.0.2.1
	secret = 'one'
	nas_type = 'cisco'
	group = 'staff'
	group = 'lab'
}
client lan {
	ipaddr = 198.51.100.0/24
	secret = 'two'
	shortname = 'lan'
	site = "paris"
}
`;

async function start(policy: string, clients = CLIENTS): Promise<Server> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-client-'));
  const file = path.join(dir, 'radiusd.conf');
  fs.writeFileSync(file, `${clients}
modules {
	client {
	}
}
server default {
	namespace = radius
	recv Access-Request {
${policy}
		control.Auth-Type := ::Accept
	}
}
`);
  server = new Server({ modules: BUILTIN_MODULES, file, log: new MemoryLogger(), triggers: false, createListener: inertListener });
  await server.start();
  return server;
}

const from = (address: string) => ({ code: 'Access-Request', pairs: 'User-Name = "bob"', src: { address, port: 1645 } });

describe('client', () => {
  it('%client(field) reads the request\'s client, %request.client(field, address) another one', async () => {
    const s = await start(`
		reply.Reply-Message := "%client('nas_type') %client('shortname') %request.client('site', 198.51.100.77)"
		reply.Filter-Id := %client('group')
		reply.Class := "x%client('no-such-item')x"
		reply.Callback-Id := "%client('nas_type', 203.0.113.9)"`);
    const r = await s.inject('default', from('192.0.2.1'));
    expect(r.name).toBe('Access-Accept');
    const text = printPairList(r.pairs);
    expect(text).toContain('Reply-Message = "cisco nas1 paris"');
    expect(text).toContain('Filter-Id = "staff"');
    expect(text).toContain('Class = 0x7878'); // an item the client lacks expands to nothing
    expect(text).toContain('Callback-Id = ""'); // no client at that address: nothing
  });

  it('map client [address] copies items, several values with +=, skips items the client lacks', async () => {
    const s = await start(`
		map client {
			reply.Filter-Id += 'group'
			reply.Reply-Message := 'nas_type'
			reply.Class := 'not-an-item'
		}
		if (!updated) {
			reject
		}
		map client 198.51.100.3 {
			reply.Callback-Id := 'site'
		}
		map client 203.0.113.1 {
			reply.Callback-Id := 'site'
		}
		if (notfound) {
			reply.Login-LAT-Service := 'none there'
		}`);
    const r = await s.inject('default', from('192.0.2.1'));
    expect(r.name).toBe('Access-Accept');
    const text = printPairList(r.pairs);
    expect(text).toContain('Filter-Id = "staff"');
    expect(text).toContain('Filter-Id = "lab"');
    expect(text).toContain('Reply-Message = "cisco"');
    expect(text).toContain('Callback-Id = "paris"');
    expect(text).toContain('Login-LAT-Service = "none there"');
    expect(text).not.toContain('Class');
  });

  it('a client item close to a known one is still a typo; an address that is none is an error', async () => {
    await expect(start('', 'client x {\n\tipaddr = 192.0.2.1\n\tsecret = s\n\tnas_typo = cisco\n}\n')).rejects.toThrow(/radiusd\.conf\[4\].*nas_typo.*did you mean "nas_type"/);
    await server?.stop();
    server = undefined;
    const s = await start(`
		reply.Reply-Message := "%client('nas_type', 'not-an-ip')"`);
    const r = await s.inject('default', from('192.0.2.1'));
    expect(r.name).not.toBe('Access-Accept');
  });
});
