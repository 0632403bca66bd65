/**
 * core/dac against the NAS simulator on loopback: more requests in flight than one NAS has IDs
 * (the backlog), Message-Authenticator on every request, a NAS that never answers (RFC 5080
 * retransmissions, then timeout), a wrong secret (no answer), and coa_server resolution.
 */
import * as dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../dict/default';
import { parseConfigString } from '../config/parser';
import type { ConfSection } from '../config/ast';
import { parseClients } from '../listen/clients';
import { decodePacket, PacketCode } from '../protocol/radius';
import { NasSimulator } from '../cli/nassim/simulator';
import { DacService } from './service';
import { DacClient } from './client';
import { Pair } from '../pair/pair';

const dict = loadDefaultDictionary();
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function clients(text: string) {
  const root = parseConfigString(text, 'clients.conf');
  return parseClients(root.children.filter((c): c is ConfSection => c.kind === 'section' && c.name1 === 'client'));
}

describe('core/dac', () => {
  it('resolves coa_server: defaults to the NAS address, port 3799 and the client secret', () => {
    const t = clients('client a {\n ipaddr = 192.0.2.0/24\n secret = s1\n}\nclient b {\n ipaddr = 198.51.100.1\n secret = s2\n coa_server {\n  ipaddr = 203.0.113.9\n  port = 1700\n  secret = coa2\n }\n}\n');
    const dac = new DacService();
    dac.setGeneration(dict, [t]);
    expect(dac.target({ nas: '192.0.2.5' })).toEqual({ address: '192.0.2.5', port: 3799, secret: Buffer.from('s1') });
    expect(dac.target({ nas: '10.0.0.1', src: '198.51.100.1' })).toEqual({ address: '203.0.113.9', port: 1700, secret: Buffer.from('coa2') });
    expect(dac.target({ nas: '10.9.9.9' })).toBe('no client matches NAS 10.9.9.9');
  });

  it('keeps more requests than 256 IDs in flight to one NAS (backlog) and signs every request', async () => {
    const sim = new NasSimulator({ dict, server: '127.0.0.1', authPort: 9, acctPort: 9, secret: 'sekrit' });
    await sim.open();
    closers.push(() => sim.close());
    const seen: boolean[] = [];
    // A listener beside the simulator's: count Message-Authenticator on what arrives.
    const client = new DacClient(dict, { retry: { initial_rtx_time: 2, max_rtx_time: 4, max_rtx_count: 3, max_rtx_duration: 10 } });
    closers.push(() => client.close());
    const target = { address: '127.0.0.1', port: sim.coaAddress.port, secret: Buffer.from('sekrit') };
    const sid = dict.resolve('Acct-Session-Id')!;
    const answers = await Promise.all(Array.from({ length: 600 }, (_, i) => client.send(target, PacketCode.DisconnectRequest, [new Pair(sid, `s-${i}`)])));
    // The simulator knows none of these sessions: every answer is a verified NAK with Error-Cause 503.
    expect(answers.every((a) => a.result === 'nak' && a.errorCause === 503)).toBe(true);
    expect(sim.received.disconnect).toBe(600);
    expect(client.counters.backlogged).toBeGreaterThan(0);
    expect(client.inFlight).toBe(0);

    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => probe.close(() => r())));
    probe.on('message', (m) => {
      const d = decodePacket(m, { dict, secret: Buffer.from('sekrit') });
      seen.push(d.ok && d.hasMessageAuthenticator);
    });
    const t2 = { address: '127.0.0.1', port: probe.address().port, secret: Buffer.from('sekrit') };
    const quick = new DacClient(dict, { retry: { initial_rtx_time: 1, max_rtx_time: 1, max_rtx_count: 2, max_rtx_duration: 3 } });
    closers.push(() => quick.close());
    // Nobody answers: sent, retransmitted once (MRC 2), then timeout.
    const a = await quick.send(t2, PacketCode.CoARequest, [new Pair(sid, 'x'), new Pair(dict.resolve('Idle-Timeout')!, 60)]);
    expect(a).toMatchObject({ result: 'timeout', transmissions: 2 });
    expect(seen).toEqual([true, true]);
    expect(quick.counters.retransmitted).toBe(1);
  });

  it('a request the NAS cannot verify (wrong secret) gets no answer: timeout', async () => {
    const sim = new NasSimulator({ dict, server: '127.0.0.1', authPort: 9, acctPort: 9, secret: 'right', coaSecret: 'other' });
    await sim.open();
    closers.push(() => sim.close());
    const client = new DacClient(dict, { retry: { initial_rtx_time: 1, max_rtx_time: 1, max_rtx_count: 1, max_rtx_duration: 1 } });
    closers.push(() => client.close());
    const a = await client.send({ address: '127.0.0.1', port: sim.coaAddress.port, secret: Buffer.from('other-wrong') }, PacketCode.DisconnectRequest,
      [new Pair(dict.resolve('Acct-Session-Id')!, 'nope')]);
    // The simulator cannot verify the request (wrong secret) and stays silent, as a NAS does.
    expect(a.result).toBe('timeout');
    expect(sim.received.disconnect).toBe(0);
  });
});
