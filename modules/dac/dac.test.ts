import { afterEach, describe, expect, it } from 'vitest';
import type { DacService } from '../../core';
import { callCtx, loadTestModule, makeRequest, type TestModule } from '../../test/support/module-call';
import def from './index';
import { parseVxFramedRoute, type Dac } from './dac';

let m: TestModule<Dac> | undefined;
afterEach(async () => {
  await m?.$set.detachAll();
  m = undefined;
});

describe('dac module', () => {
  it('parses the VX Framed-Route', () => {
    expect(parseVxFramedRoute('127.0.0.1/32 0.0.0.0')).toBe('127.0.0.1');
    expect(parseVxFramedRoute('2001:db8::5/128 0.0.0.0')).toBe('2001:db8::5');
    for (const bad of ['127.0.0.1/24 0.0.0.0', '127.0.0.1/32', '300.0.0.1/32 0.0.0.0', '2001:db8::5/32 0.0.0.0', '127.0.0.1/128 0.0.0.0', 'x/32 0.0.0.0', '']) {
      expect(parseVxFramedRoute(bad), bad).toBeUndefined();
    }
  });

  it('grant → Start → Interim (Gigawords) → Stop keep the session store; anomalies return updated', async () => {
    m = await loadTestModule(def, '');
    const dac = (m as unknown as { dac: DacService }).dac;
    const accept = makeRequest('User-Name = "gold", Framed-Route = "198.51.100.9/32 0.0.0.0"', {
      reply: 'Framed-IP-Address = 100.64.0.10, Idle-Timeout = 600, Actual-Data-Rate-Downstream = 5000',
    });
    expect(await m.grant(accept, callCtx(accept))).toBe('ok');
    const id = accept.reply.find((p) => p.da.name === 'Acct-Session-Id')?.value as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const acct = (status: string, extra = '') => makeRequest(
      `Acct-Status-Type = ${status}, Acct-Session-Id = "${id}", User-Name = "gold", NAS-IP-Address = 192.0.2.1, Packet-Src-IP-Address = 192.0.2.2${extra}`, { code: 4 });
    const start = acct('Start');
    expect(await m.accounting(start, callCtx(start))).toBe('ok');
    expect(dac.sessions.get(id)).toMatchObject({ user: 'gold', nas: '192.0.2.1', src: '192.0.2.2', framedIp: '100.64.0.10', clientIp: '198.51.100.9', state: 'active' });
    expect((await dac.sessions.get(id))!.attributes).toEqual({ 'Idle-Timeout': '600', 'Actual-Data-Rate-Downstream': '5000' });

    const again = acct('Start');
    expect(await m.accounting(again, callCtx(again))).toBe('updated');
    expect(m.$log.lines.some((l) => /duplicate start \(recorded\)/.test(l))).toBe(true);

    const interim = acct('Interim-Update', ', Acct-Input-Octets = 5, Acct-Input-Gigawords = 2, Acct-Output-Octets = 7');
    expect(await m.accounting(interim, callCtx(interim))).toBe('ok');
    expect((await dac.sessions.get(id))!.inputOctets).toBe(2 * 2 ** 32 + 5);
    expect((await dac.sessions.get(id))!.outputOctets).toBe(7);

    const stop = acct('Stop', ', Acct-Input-Octets = 9');
    expect(await m.accounting(stop, callCtx(stop))).toBe('ok');
    expect((await dac.sessions.get(id))!.state).toBe('stopped');
    const stop2 = acct('Stop');
    expect(await m.accounting(stop2, callCtx(stop2))).toBe('updated');

    const none = makeRequest('Acct-Status-Type = Start', { code: 4 });
    expect(await m.accounting(none, callCtx(none))).toBe('invalid');
  });

  it('coa/disconnect: notfound without an active session, noop without dynamic attributes', async () => {
    m = await loadTestModule(def, 'attributes = control');
    const r = makeRequest('Acct-Session-Id = "nope"', { control: 'Idle-Timeout = 5' });
    expect(await m.coa(r, callCtx(r))).toBe('notfound');
    expect(await m.disconnect(r, callCtx(r))).toBe('notfound');
    const dac = (m as unknown as { dac: DacService }).dac;
    await dac.memorySessions.start({ id: 's1', nas: '192.0.2.1', user: 'u' });
    const r2 = makeRequest('Acct-Session-Id = "s1"', { control: 'Reply-Message = "x"' });
    expect(await m.coa(r2, callCtx(r2))).toBe('noop');
  });
});
