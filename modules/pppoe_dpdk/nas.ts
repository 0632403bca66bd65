/**
 * The concentrator as a Dynamic Authorization server (RFC 5176): Disconnect-Request and CoA-Request from the AAA
 * side, on a UDP port of the app. The session is named by Acct-Session-Id (the one our accounting sends:
 * `<start ms hex>-<session id hex>`); the command goes to the lcore owning that session id through its mailbox
 * (`ControlPlane.sessionCommand`), and the answer is an ACK or a NAK with Error-Cause.
 *
 * Checked: the Request Authenticator (MD5 over the packet with a zero authenticator and the shared secret) and,
 * when present, Message-Authenticator; a packet failing either is dropped silently (RFC 5176 §3.5).
 * CoA attributes applied: Session-Timeout, Idle-Timeout, and the rates (bits/s) as in an Access-Accept: RFC 4679
 * Actual-Data-Rate-Upstream/-Downstream (3561/129, 130), else Maximum-Data-Rate-* (3561/135, 136), else
 * WISPr-Bandwidth-Max-Up/-Down (14122/7, 8). A direction the CoA does not name keeps its rate.
 */
import * as dgram from 'node:dgram';
import { hmacMd5, md5, safeEqual } from '../../core';
import type { ControlPlane } from './control-plane';
import { MailOp, MailResult } from './shared';

export interface NasOptions {
  readonly address: string;
  readonly port: number;
  readonly secret: string;
}

const DISCONNECT_REQUEST = 40;
const DISCONNECT_ACK = 41;
const DISCONNECT_NAK = 42;
const COA_REQUEST = 43;
const COA_ACK = 44;
const COA_NAK = 45;
const ERR_MISSING_ATTRIBUTE = 402;
const ERR_SESSION_NOT_FOUND = 503;
const ERR_RESOURCES_UNAVAILABLE = 506;

interface Parsed {
  sessionId?: string;
  sessionTimeout?: number;
  idleTimeout?: number;
  rateUp?: number;
  rateDown?: number;
  messageAuthenticatorAt?: number;
}

/** Rate VSAs by precedence (index 0 wins): [vendor, type up, type down]. */
const RATE_VSAS = [[3561, 129, 130], [3561, 135, 136], [14122, 7, 8]] as const;

function parse(buf: Buffer, len: number): Parsed | undefined {
  const out: Parsed = {};
  const up: (number | undefined)[] = [];
  const down: (number | undefined)[] = [];
  for (let p = 20; p < len;) {
    const t = buf[p];
    const l = buf[p + 1];
    if (l < 2 || p + l > len) return undefined;
    const v = buf.subarray(p + 2, p + l);
    if (t === 44) out.sessionId = v.toString('latin1');
    else if (t === 27 && l === 6) out.sessionTimeout = v.readUInt32BE(0);
    else if (t === 28 && l === 6) out.idleTimeout = v.readUInt32BE(0);
    else if (t === 80 && l === 18) out.messageAuthenticatorAt = p + 2;
    else if (t === 26 && l >= 12) {
      const vendor = v.readUInt32BE(0);
      for (let q = 4; q + 2 <= v.length;) {
        const vt = v[q];
        const vl = v[q + 1];
        if (vl < 2 || q + vl > v.length) break;
        for (let i = 0; i < RATE_VSAS.length; i++) {
          const [ven, tu, td] = RATE_VSAS[i];
          if (vendor !== ven || vl !== 6) continue;
          if (vt === tu) up[i] = v.readUInt32BE(q + 2);
          if (vt === td) down[i] = v.readUInt32BE(q + 2);
        }
        q += vl;
      }
    }
    p += l;
  }
  out.rateUp = up.find((x) => x !== undefined);
  out.rateDown = down.find((x) => x !== undefined);
  return out;
}

/** Session id from our Acct-Session-Id format, or 0. */
export function sidOfAcctSessionId(s: string): number {
  const m = /^[0-9A-F]+-([0-9A-F]{1,8})$/i.exec(s);
  return m ? parseInt(m[1], 16) : 0;
}

/** Opens the listener; resolves with a closer once bound. */
export async function startNas(o: NasOptions, cp: () => ControlPlane | undefined, log: { info(m: string): void; warn(m: string): void }): Promise<{ close(): Promise<void>; port: number }> {
  const secret = Buffer.from(o.secret, 'utf8');
  const sock = dgram.createSocket(o.address.includes(':') ? 'udp6' : 'udp4');
  const reply = (req: Buffer, code: number, errorCause: number, to: dgram.RemoteInfo): void => {
    const attrs = errorCause ? Buffer.from([101, 6, 0, 0, errorCause >> 8, errorCause & 255]) : Buffer.alloc(0);
    const out = Buffer.alloc(20 + attrs.length);
    out[0] = code;
    out[1] = req[1];
    out.writeUInt16BE(out.length, 2);
    attrs.copy(out, 20);
    // Response Authenticator = MD5(Code ‖ Id ‖ Length ‖ Request Authenticator ‖ Attributes ‖ Secret)
    md5(Buffer.concat([out.subarray(0, 4), req.subarray(4, 20), attrs, secret])).copy(out, 4);
    sock.send(out, to.port, to.address);
  };
  sock.on('message', (buf, rinfo) => {
    void (async () => {
      if (buf.length < 20) return;
      const len = buf.readUInt16BE(2);
      if (len < 20 || len > buf.length) return;
      const code = buf[0];
      if (code !== DISCONNECT_REQUEST && code !== COA_REQUEST) return;
      const a = parse(buf, len);
      if (!a) return;
      const zeroed = Buffer.from(buf.subarray(0, len));
      zeroed.fill(0, 4, 20);
      if (a.messageAuthenticatorAt !== undefined) {
        const m = Buffer.from(zeroed);
        m.fill(0, a.messageAuthenticatorAt, a.messageAuthenticatorAt + 16);
        if (!safeEqual(hmacMd5(secret, m), buf.subarray(a.messageAuthenticatorAt, a.messageAuthenticatorAt + 16))) return;
        zeroed.set(buf.subarray(a.messageAuthenticatorAt, a.messageAuthenticatorAt + 16), a.messageAuthenticatorAt);
      }
      if (!safeEqual(md5(Buffer.concat([zeroed, secret])), buf.subarray(4, 20))) {
        log.warn(`dynamic authorization from ${rinfo.address}: bad Request Authenticator (wrong secret?); dropped`);
        return;
      }
      const ack = code === DISCONNECT_REQUEST ? DISCONNECT_ACK : COA_ACK;
      const nak = code === DISCONNECT_REQUEST ? DISCONNECT_NAK : COA_NAK;
      if (!a.sessionId) {
        reply(buf, nak, ERR_MISSING_ATTRIBUTE, rinfo);
        return;
      }
      const sid = sidOfAcctSessionId(a.sessionId);
      const plane = cp();
      if (!plane || sid === 0) {
        reply(buf, nak, plane ? ERR_SESSION_NOT_FOUND : ERR_RESOURCES_UNAVAILABLE, rinfo);
        return;
      }
      const r = code === DISCONNECT_REQUEST
        ? await plane.sessionCommand(sid, MailOp.DISCONNECT)
        : await plane.sessionCommand(sid, MailOp.CHANGE, [a.rateUp ?? -1, a.rateDown ?? -1, a.sessionTimeout ?? -1, a.idleTimeout ?? -1]);
      if (r === MailResult.OK) reply(buf, ack, 0, rinfo);
      else reply(buf, nak, r === MailResult.NO_SESSION ? ERR_SESSION_NOT_FOUND : ERR_RESOURCES_UNAVAILABLE, rinfo);
      log.info(`${code === DISCONNECT_REQUEST ? 'Disconnect' : 'CoA'} for session ${a.sessionId} from ${rinfo.address}: ${r === MailResult.OK ? 'ACK' : 'NAK'}`);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(o.port, o.address, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return {
    port: sock.address().port,
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}
