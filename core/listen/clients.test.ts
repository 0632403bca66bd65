import { MaSeenState, clientKey } from './client-state';
import { describe, expect, it } from 'vitest';
import { ConfError } from '../config/errors';
import { Client, canonicalNetwork, maRequired, proxyStateLimited } from './clients';
import { clientsFromText } from '../../test/support/listen';

describe('client table', () => {
  const table = clientsFromText(`
client host { ipaddr = 192.0.2.10
  secret = a }
client net24 { network = 192.0.2.0/24
  secret = b }
client net16 { ipaddr = 192.0.0.0/16
  secret = c }
client legacy { ipaddr = 10.1.0.0
  netmask = 16
  secret = d }
client any6 { ipv6addr = 2001:db8::/32
  secret = e }
client host6 { ipv6addr = 2001:db8:0:0::1
  secret = f
  shortname = h6
  nas_type = cisco
  require_message_authenticator = auto
  limit_proxy_state = no
  max_pps = 100 }
`);

  it('finds clients by longest prefix (IPv4, IPv6, IPv4-mapped)', () => {
    expect(table.find('192.0.2.10')?.name).toBe('host');
    expect(table.find('192.0.2.11')?.name).toBe('net24');
    expect(table.find('192.0.3.1')?.name).toBe('net16');
    expect(table.find('10.1.200.3')?.name).toBe('legacy');
    expect(table.find('10.2.0.1')).toBeUndefined();
    expect(table.find('::ffff:192.0.2.10')?.name).toBe('host');
    expect(table.find('2001:db8::1')?.name).toBe('host6');
    expect(table.find('2001:0db8:0000::0001')?.name).toBe('host6');
    expect(table.find('2001:db8:ffff::1')?.name).toBe('any6');
    expect(table.find('2001:db9::1')).toBeUndefined();
    expect(table.find('not an address')).toBeUndefined();
    expect(table.size).toBe(6);
  });

  it('parses options with secure defaults', () => {
    const h = table.find('192.0.2.10')!;
    expect(h.requireMessageAuthenticator).toBe('yes');
    expect(h.limitProxyState).toBe('auto');
    expect(h.shortname).toBe('host');
    expect(h.nasType).toBe('other');
    expect(h.secret.toString()).toBe('a');
    const h6 = table.find('2001:db8::1')!;
    expect(h6.shortname).toBe('h6');
    expect(h6.nasType).toBe('cisco');
    expect(h6.maxPps).toBe(100);
    expect(h6.network).toBe('2001:db8::1');
    expect(table.find('10.1.0.1')!.network).toBe('10.1.0.0/16');
  });

  it('auto becomes required once a Message-Authenticator was seen', () => {
    const c = new Client('x', 'x', Buffer.from('s'), 'other', '127.0.0.1', 'auto', 'auto', 0);
    expect(maRequired(c)).toBe(false);
    expect(proxyStateLimited(c)).toBe(false);
    c.maSeen = true;
    expect(maRequired(c)).toBe(true);
    expect(proxyStateLimited(c)).toBe(true);
    const no = new Client('y', 'y', Buffer.from('s'), 'other', '127.0.0.1', 'no', 'no', 0);
    no.maSeen = true;
    expect(maRequired(no)).toBe(false);
    expect(proxyStateLimited(no)).toBe(false);
  });

  it('token bucket allows max_pps per second', () => {
    const c = new Client('x', 'x', Buffer.from('s'), 'other', '127.0.0.1', 'yes', 'auto', 10);
    let ok = 0;
    for (let i = 0; i < 100; i++) if (c.take(1000)) ok++;
    expect(ok).toBe(10);
    expect(c.take(1050)).toBe(false);
    expect(c.take(1100)).toBe(true); // 100 ms later: one more token
    c.setShare(2);
    let ok2 = 0;
    for (let i = 0; i < 100; i++) if (c.take(3000)) ok2++;
    expect(ok2).toBe(5);
  });

  it('keeps the Message-Authenticator flag across a reload (same name and network)', () => {
    const state = new MaSeenState(undefined);
    const a = clientsFromText('client lo { ipaddr = 127.0.0.1\n secret = x\n require_message_authenticator = auto }');
    state.add(clientKey(a.find('127.0.0.1')!));
    const b = clientsFromText('client lo { ipaddr = 127.0.0.1\n secret = y\n require_message_authenticator = auto }\nclient other { ipaddr = 127.0.0.2\n secret = y }');
    state.mark([b]);
    expect(b.find('127.0.0.1')!.maSeen).toBe(true);
    expect(b.find('127.0.0.2')!.maSeen).toBe(false);
  });

  it('reports located errors', () => {
    const bad = (text: string): string => {
      try { clientsFromText(text); } catch (e) { expect(e).toBeInstanceOf(ConfError); return (e as Error).message; }
      return 'no error';
    };
    expect(bad('client a {\n ipaddr = 127.0.0.1\n}')).toMatch(/^clients\.conf\[1\]: .*secret/);
    expect(bad('client a {\n secret = x\n}')).toMatch(/needs ipaddr/);
    expect(bad('client a {\n ipaddr = 127.0.0.300\n secret = x\n}')).toMatch(/^clients\.conf\[2\]:/);
    expect(bad('client a {\n ipaddr = 127.0.0.1\n secret = x\n require_message_authenticator = maybe\n}')).toMatch(/^clients\.conf\[4\]:.*yes, no, auto/);
    expect(bad('client a {\n ipaddr = 127.0.0.1\n secert = x\n}')).toMatch(/did you mean "secret"/);
    expect(bad('client a {\n ipaddr = 127.0.0.1\n secret = x\n}\nclient b {\n ipaddr = 127.0.0.1\n secret = y\n}')).toMatch(/^clients\.conf\[5\]: .*already used by client a/);
    // The secret never appears in messages.
    expect(bad('client a {\n ipaddr = 127.0.0.1\n secret = hunter2\n max_pps = -1\n}')).not.toMatch(/hunter2/);
  });

  it('canonicalises networks', () => {
    expect(canonicalNetwork('192.0.2.77/24')).toBe('192.0.2.0/24');
    expect(canonicalNetwork('0.0.0.0/0')).toBe('0.0.0.0/0');
    expect(canonicalNetwork('2001:db8::77/64')).toBe('2001:db8::/64');
    expect(canonicalNetwork('::/0')).toBe('::/0');
  });
});
