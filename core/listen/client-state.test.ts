/**
 * The learned Message-Authenticator state: file round trip, damaged files, and the log line
 * (only said when it is true for the client's settings).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../log/memory';
import { createRadiusProcess } from '../process/radius/process';
import { PacketCode as C } from '../protocol/radius/packet';
import { clientKey, maLearnedNote, MaSeenState } from './client-state';
import { buildRequest, clientsFromText, compileSite, testDict, UdpPeer } from '../../test/support/listen';
import { UdpListener } from './udp';

const dirs: string[] = [];
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-mastate-'));
  dirs.push(d);
  return d;
};

describe('MaSeenState', () => {
  it('saves atomically and loads back; a missing file is an empty set', () => {
    const file = path.join(tmp(), 'run', 'radiusd.ma-seen');
    const a = new MaSeenState(file);
    a.load();
    expect(a.size).toBe(0);
    expect(a.add('192.0.2.0/24 pool name with spaces')).toBe(true);
    expect(a.add('192.0.2.0/24 pool name with spaces')).toBe(false);
    a.add('::1 lo6');
    a.save();
    expect(fs.readdirSync(path.dirname(file))).toEqual(['radiusd.ma-seen']); // no temp file left
    const b = new MaSeenState(file);
    b.load();
    expect(b.keys().sort()).toEqual(['192.0.2.0/24 pool name with spaces', '::1 lo6']);
  });

  it('a worker copy (persist = false) never writes', () => {
    const file = path.join(tmp(), 'x.ma-seen');
    const w = new MaSeenState(file, undefined, false);
    w.add('127.0.0.1 lo');
    w.save();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('bad lines and unreadable files are located warnings', () => {
    const d = tmp();
    const file = path.join(d, 'radiusd.ma-seen');
    fs.writeFileSync(file, '# c\nseen 127.0.0.1 lo\nseen 300.1.1.1 x\n\u0000\u0001binary\nseen 10.0.0.0/33 y\n');
    const log = new MemoryLogger();
    const s = new MaSeenState(file, log);
    s.load();
    expect(s.keys()).toEqual(['127.0.0.1 lo']);
    expect(log.lines.map((l) => l.msg)).toEqual([
      `${file}[3]: ignoring a bad line in the Message-Authenticator state (expected "seen NETWORK CLIENT-NAME")`,
      `${file}[4]: ignoring a bad line in the Message-Authenticator state (expected "seen NETWORK CLIENT-NAME")`,
      `${file}[5]: ignoring a bad line in the Message-Authenticator state (expected "seen NETWORK CLIENT-NAME")`,
    ]);
    // A directory where the file should be: a warning, an empty set, and saving logs an error.
    const dirAsFile = path.join(d, 'dir.ma-seen');
    fs.mkdirSync(dirAsFile);
    const log2 = new MemoryLogger();
    const t = new MaSeenState(dirAsFile, log2);
    t.load();
    t.add('127.0.0.1 lo');
    t.save();
    expect(t.size).toBe(1);
    expect(log2.lines.map((l) => l.level)).toEqual(['warn', 'error']);
    expect(log2.lines[0].msg).toContain(dirAsFile);
  });
});

describe('the learned line', () => {
  const clients = clientsFromText(`
client auto { ipaddr = 127.0.0.1
  secret = testing123
  require_message_authenticator = auto }
client no-ps-auto { ipaddr = 127.0.0.2
  secret = testing123
  require_message_authenticator = no
  limit_proxy_state = auto }
client no-no { ipaddr = 127.0.0.3
  secret = testing123
  require_message_authenticator = no
  limit_proxy_state = no }
client yes { ipaddr = 127.0.0.4
  secret = testing123
  require_message_authenticator = yes }
`);

  it('says "requiring it" only for auto, and nothing when nothing changes', () => {
    const note = (a: string) => maLearnedNote(clients.find(a)!);
    expect(note('127.0.0.1')).toMatch(/requiring it in every Access-Request from now on/);
    expect(note('127.0.0.2')).not.toMatch(/requiring/);
    expect(note('127.0.0.2')).toMatch(/Proxy-State/);
    expect(note('127.0.0.3')).toBeUndefined();
    expect(note('127.0.0.4')).toBeUndefined();
    expect(clientKey(clients.find('127.0.0.2')!)).toBe('127.0.0.2 no-ps-auto');
  });

  it('a listener logs it once per client, and never "requiring it" for a client set to no', async () => {
    const log = new MemoryLogger();
    const site = compileSite({ 'recv Access-Request': 'control.Auth-Type := ::Accept' }, { config: { rejectDelay: 0 } });
    const l = new UdpListener(
      { name: 'udp', transport: 'udp', ipaddr: '127.0.0.1', port: 0, types: [C.AccessRequest], cleanupDelay: 5, maxPacketSize: 4096 },
      { clients, sink: createRadiusProcess(site), dict: testDict(), log },
    );
    await l.start();
    closers.push(() => l.stop());
    for (const local of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) {
      const p = await UdpPeer.open(l.address()!.port, '127.0.0.1', local);
      closers.push(() => p.close());
      for (let i = 0; i < 3; i++) expect(await p.exchange(buildRequest(C.AccessRequest, 'User-Name = "x"', { id: i }), 3000)).not.toBeNull();
    }
    const learned = log.lines.filter((x) => x.msg.includes('sent a Message-Authenticator')).map((x) => x.msg);
    expect(learned).toHaveLength(2);
    expect(learned.filter((m) => m.includes('requiring it'))).toEqual([expect.stringContaining('client auto (127.0.0.1)')]);
    expect(learned.filter((m) => m.includes('client no-ps-auto'))).toHaveLength(1);
    expect(learned.some((m) => m.includes('no-no'))).toBe(false);
  });
});
