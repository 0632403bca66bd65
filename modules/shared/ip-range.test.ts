import { describe, expect, it } from 'vitest';
import { expandRange, formatIp, parseIp } from './ip-range';

describe('pool ranges', () => {
  it('expands dashed ranges, single addresses and IPv4 subnets (without network and broadcast)', () => {
    expect(expandRange('192.0.2.254-192.0.3.1')).toEqual(['192.0.2.254', '192.0.2.255', '192.0.3.0', '192.0.3.1']);
    expect(expandRange('192.0.2.7')).toEqual(['192.0.2.7']);
    expect(expandRange('192.0.2.0/30')).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(expandRange('192.0.2.8/31')).toEqual(['192.0.2.8', '192.0.2.9']);
    expect(() => expandRange('192.0.2.9-192.0.2.1')).toThrow(/ends before it starts/);
    expect(() => expandRange('10.0.0.0/8')).toThrow(/more than/);
  });
  it('splits IPv6 prefixes and prints RFC 5952 text', () => {
    expect(expandRange('2001:db8::/46', 48)).toEqual(['2001:db8::/48', '2001:db8:1::/48', '2001:db8:2::/48', '2001:db8:3::/48']);
    expect(expandRange('2001:DB8:0:0:0:0:0:FFFE-2001:db8::1:0')).toEqual(['2001:db8::fffe', '2001:db8::ffff', '2001:db8::1:0']);
    expect(formatIp(parseIp('2001:db8:0:0:1:0:0:1').v, 6)).toBe('2001:db8::1:0:0:1');
    expect(formatIp(parseIp('::ffff:192.0.2.1').v, 6)).toBe('::ffff:c000:201');
    expect(formatIp(parseIp('1:0:0:1:0:0:0:1').v, 6)).toBe('1:0:0:1::1');
  });
});
