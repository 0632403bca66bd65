import { describe, expect, it } from 'vitest';
import {
  AuthType, CACHE_LINE, decodeRequest, decodeResponse, ipv4ToU32, Kind, RECORD_SIZE, REQ, RESP, RespFlag, u32ToIpv4,
  writeAscii, writeBareResponse, writeBytes, writeCallingStationId, writeRequestHeader, writeResponse,
} from './records';

const buf = (): { dv: DataView; u8: Uint8Array } => {
  const sab = new SharedArrayBuffer(RECORD_SIZE * 3);
  return { dv: new DataView(sab), u8: new Uint8Array(sab) };
};

describe('records', () => {
  it('are whole cache lines, and every field fits inside the record without overlap', () => {
    expect(RECORD_SIZE % CACHE_LINE).toBe(0);
    const spans = (fields: [number, number][]): void => {
      const sorted = [...fields].sort((a, b) => a[0] - b[0]);
      for (let i = 0; i < sorted.length; i++) {
        expect(sorted[i][0] + sorted[i][1]).toBeLessThanOrEqual(i + 1 < sorted.length ? sorted[i + 1][0] : RECORD_SIZE);
        expect(sorted[i][0] % Math.min(8, sorted[i][1])).toBe(0); // naturally aligned
      }
    };
    spans([[REQ.REQUEST_ID, 8], [REQ.SESSION_ID, 4], [REQ.SVLAN, 2], [REQ.CVLAN, 2], [REQ.TIMESTAMP, 8], [REQ.MAC, 6], [REQ.KIND, 1],
      [REQ.AUTH_TYPE, 1], [REQ.CHAP_ID, 1], [REQ.LCORE, 1], [REQ.USER_LEN, 1], [REQ.PASS_LEN, 1], [REQ.CHALLENGE_LEN, 1], [REQ.CALLING_LEN, 1],
      [REQ.NAS_PORT_ID_LEN, 1], [REQ.USER, REQ.USER_MAX], [REQ.PASS, REQ.PASS_MAX], [REQ.CHALLENGE, REQ.CHALLENGE_MAX],
      [REQ.CALLING, REQ.CALLING_MAX], [REQ.NAS_PORT_ID, REQ.NAS_PORT_ID_MAX]]);
    spans([[RESP.REQUEST_ID, 8], [RESP.SESSION_ID, 4], [RESP.RESULT, 1], [RESP.FLAGS, 1], [RESP.REPLY_MSG_LEN, 1], [RESP.KIND, 1],
      [RESP.FRAMED_IP, 4], [RESP.FRAMED_NETMASK, 4], [RESP.DNS1, 4], [RESP.DNS2, 4], [RESP.SESSION_TIMEOUT, 4], [RESP.IDLE_TIMEOUT, 4],
      [RESP.RATE_UP, 4], [RESP.RATE_DOWN, 4], [RESP.FRAMED_MTU, 2], [RESP.EXTRA_LEN, 2], [RESP.ANSWERED_AT, 8],
      [RESP.REPLY_MSG, RESP.REPLY_MSG_MAX], [RESP.EXTRA, RESP.EXTRA_MAX]]);
  });

  it('round-trip a CHAP request written in place (second slot, so offsets matter)', () => {
    const { dv, u8 } = buf();
    const off = RECORD_SIZE;
    const mac = Uint8Array.of(0, 0, 0x02, 0xab, 0x0c, 0x01, 0xff, 0x7e);
    writeRequestHeader(dv, u8, off, 2 ** 40 * 256 + 3, 4097, 3, Kind.AUTH, AuthType.CHAP, 0x42, mac, 2, 100, 200, 1_700_000_000_123.5);
    expect(writeAscii(u8, off, REQ.USER, REQ.USER_MAX, REQ.USER_LEN, 'alice@isp.example')).toBe(true);
    const challenge = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
    const response = Uint8Array.from({ length: 16 }, (_, i) => 255 - i);
    expect(writeBytes(u8, off, REQ.CHALLENGE, REQ.CHALLENGE_MAX, REQ.CHALLENGE_LEN, challenge, 0, 16)).toBe(true);
    expect(writeBytes(u8, off, REQ.PASS, REQ.PASS_MAX, REQ.PASS_LEN, response, 0, 16)).toBe(true);
    writeCallingStationId(u8, off, mac, 2);
    writeAscii(u8, off, REQ.NAS_PORT_ID, REQ.NAS_PORT_ID_MAX, REQ.NAS_PORT_ID_LEN, 'pppoe3:100.200');
    const r = decodeRequest(dv, u8, off);
    expect(r).toMatchObject({
      requestId: 2 ** 40 * 256 + 3, sessionId: 4097, lcore: 3, kind: Kind.AUTH, authType: 'chap', username: 'alice@isp.example',
      mac: '02:ab:0c:01:ff:7e', svlan: 100, cvlan: 200, callingStationId: '02-AB-0C-01-FF-7E', nasPortId: 'pppoe3:100.200',
      timestamp: 1_700_000_000_123.5,
    });
    expect(r.chap!.id).toBe(0x42);
    expect([...r.chap!.challenge]).toEqual([...challenge]);
    expect([...r.chap!.response]).toEqual([...response]);
    expect(r.password).toBeUndefined();
    // The neighbouring slots are untouched.
    expect(u8.subarray(0, RECORD_SIZE).every((b) => b === 0)).toBe(true);
    expect(u8.subarray(2 * RECORD_SIZE).every((b) => b === 0)).toBe(true);
  });

  it('refuse credentials that do not fit instead of truncating them', () => {
    const { u8 } = buf();
    const long = new Uint8Array(REQ.USER_MAX + 1).fill(0x61);
    expect(writeBytes(u8, 0, REQ.USER, REQ.USER_MAX, REQ.USER_LEN, long, 0, long.length)).toBe(false);
    expect(u8[REQ.USER_LEN]).toBe(0);
    expect(u8[REQ.USER]).toBe(0);
    expect(writeAscii(u8, 0, REQ.USER, REQ.USER_MAX, REQ.USER_LEN, 'snow☃')).toBe(false);
  });

  it('round-trip a full response, truncating long text and extra bytes with flags', () => {
    const { dv, u8 } = buf();
    writeResponse(dv, u8, 0, 777, 9, Kind.AUTH, {
      result: 'accept', framedIp: '100.64.0.7', framedNetmask: '255.255.255.255', dns: ['192.0.2.53', '192.0.2.54'],
      sessionTimeout: 3600, idleTimeout: 600, rateUp: 10_000_000, rateDown: 50_000_000, framedMtu: 1492, nat: true,
      replyMessage: 'é'.repeat(100), extra: new Uint8Array(400).fill(9),
    }, 123.25);
    const r = decodeResponse(dv, u8, 0);
    expect(r).toMatchObject({
      requestId: 777, sessionId: 9, result: 'accept', framedIp: '100.64.0.7', framedNetmask: '255.255.255.255', dns: ['192.0.2.53', '192.0.2.54'],
      sessionTimeout: 3600, idleTimeout: 600, rateUp: 10_000_000, rateDown: 50_000_000, framedMtu: 1492, nat: true, answeredAt: 123.25,
      extraTruncated: true,
    });
    expect(r.replyMessage).toBe('é'.repeat(64)); // 128 bytes, cut between characters
    expect(r.flags & RespFlag.REPLY_MSG_TRUNCATED).toBeTruthy();
    expect(r.extra!.length).toBe(RESP.EXTRA_MAX);
    // A bare response over the same slot clears what the full one left behind.
    writeBareResponse(dv, u8, 0, 778, 10, Kind.AUTH, 3, 5);
    expect(decodeResponse(dv, u8, 0)).toMatchObject({ requestId: 778, sessionId: 10, result: 'timeout', framedIp: undefined, dns: [], nat: false, replyMessage: undefined, extra: undefined });
  });

  it('convert IPv4 addresses to and from the u32 form', () => {
    expect(ipv4ToU32('192.0.2.1')).toBe(0xc0000201);
    expect(u32ToIpv4(0xc0000201)).toBe('192.0.2.1');
    expect(ipv4ToU32('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['256.0.0.1', '1.2.3', 'x', '::1']) expect(ipv4ToU32(bad)).toBeUndefined();
  });
});
