/**
 * What Sandstorm sends: users, the request kinds of a mix, and packet
 * templates. Every template is encoded once per user with our codec
 * (`encodePacket`); sending a request copies the template into the slot's
 * buffer and patches only what must change per packet — ID, Request
 * Authenticator, hidden User-Password or CHAP-Password, Acct-Session-Id,
 * Event-Timestamp — then signs it (Message-Authenticator, or the
 * Accounting/CoA Request Authenticator). No pair objects, no closures per
 * packet.
 */
import * as fs from 'node:fs';
import type { Dictionary } from '../../dict/dictionary';
import { parsePairList } from '../../pair/text';
import {
  PacketCode, encodePacket, encryptUserPassword, hmacMd5, md5,
} from '../../protocol/radius';
import { randomBytes } from '../../protocol/radius/crypto';
import { chapResponse } from '../exchange';

/** The request kinds Sandstorm can send. */
export const KINDS = ['pap', 'chap', 'acct', 'status', 'coa'] as const;
export type Kind = (typeof KINDS)[number];

/** One user and the password it authenticates with. */
export interface User {
  name: string;
  password: string;
}

/** `user0001`…`userNNNN` / `pass0001`… (at least four digits, as the peer benchmark's users file). */
export function generateUsers(n: number): User[] {
  const width = Math.max(4, String(n).length);
  const out: User[] = [];
  for (let i = 1; i <= n; i++) {
    const d = String(i).padStart(width, '0');
    out.push({ name: `user${d}`, password: `pass${d}` });
  }
  return out;
}

/**
 * Reads users from a file: `name password` (whitespace or comma separated) per
 * line, or FreeRADIUS users-file entries `name Cleartext-Password := "pw"`.
 * `#` starts a comment. Throws `file[line]: message` on a line it cannot read.
 */
export function readUsers(file: string): User[] {
  const out: User[] = [];
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/^\s*#.*$/, '').trimEnd();
    if (!line.trim() || /^\s/.test(line)) return; // blank, or a users-file continuation (reply items)
    const fr = /^(\S+)\s+.*Cleartext-Password\s*:?=\s*"((?:[^"\\]|\\.)*)"/.exec(line);
    if (fr) { out.push({ name: fr[1], password: fr[2].replace(/\\(.)/g, '$1') }); return; }
    const plain = /^([^\s,]+)[\s,]+(\S+)\s*$/.exec(line);
    if (plain) { out.push({ name: plain[1], password: plain[2] }); return; }
    throw new Error(`${file}[${i + 1}]: expected "name password" or a users-file entry with Cleartext-Password`);
  });
  if (out.length === 0) throw new Error(`${file}: no users`);
  return out;
}

/**
 * A mix `pap=70,acct=20,status=10` (weights; a bare kind means weight 1)
 * → a schedule of kinds of length sum(weights), interleaved so that
 * consecutive requests spread over the kinds (smooth weighted round-robin).
 */
export function parseMix(text: string): Kind[] {
  const weights: [Kind, number][] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [k, w] = part.split('=');
    if (!(KINDS as readonly string[]).includes(k)) throw new Error(`unknown request kind '${k}' (one of ${KINDS.join(', ')})`);
    const n = w === undefined ? 1 : Number(w);
    if (!Number.isInteger(n) || n < 0 || n > 1000) throw new Error(`bad weight '${w}' for ${k} (an integer 0–1000)`);
    if (n > 0) weights.push([k as Kind, n]);
  }
  if (weights.length === 0) throw new Error(`empty mix '${text}'`);
  const total = weights.reduce((s, [, w]) => s + w, 0);
  const current = weights.map(() => 0);
  const out: Kind[] = [];
  for (let i = 0; i < total; i++) {
    let best = 0;
    for (let j = 0; j < weights.length; j++) {
      current[j] += weights[j][1];
      if (current[j] > current[best]) best = j;
    }
    current[best] -= total;
    out.push(weights[best][0]);
  }
  return out;
}

/** Acct-Status-Type values. */
export const ACCT_START = 1;
export const ACCT_STOP = 2;
export const ACCT_INTERIM = 3;

/** A pre-encoded packet and where its per-packet fields sit. */
export interface Template {
  code: number;
  bytes: Buffer;
  /** Offset of the User-Password value (−1: none). */
  passwordOff: number;
  passwordLen: number;
  /** Offset of the CHAP-Password value (−1: none). */
  chapOff: number;
  /** Offset of the Message-Authenticator value (−1: none). */
  maOff: number;
  /** Offset of the Acct-Session-Id value (−1: none); it is SESSION_ID_LEN characters. */
  sessionOff: number;
  /** Offset of the Event-Timestamp value (−1: none). */
  timeOff: number;
}

/** Acct-Session-Id: 8 hex digits of run nonce + 8 of session number. */
export const SESSION_ID_LEN = 16;

/** Value offset of the first top-level attribute `type` in a packet (−1: none). */
function findAttr(buf: Buffer, type: number): { off: number; len: number } {
  const end = buf.readUInt16BE(2);
  for (let p = 20; p + 2 <= end;) {
    const l = buf[p + 1];
    if (l < 2) break;
    if (buf[p] === type) return { off: p + 2, len: l - 2 };
    p += l;
  }
  return { off: -1, len: 0 };
}

/** Settings the templates depend on. */
export interface WorkloadOptions {
  dict: Dictionary;
  secret: Buffer;
  users: User[];
  /** Extra attributes (FreeRADIUS text) added to every Access-Request. */
  extraAuth?: string;
  /** Extra attributes added to every Accounting-Request. */
  extraAcct?: string;
  /** Extra attributes added to every CoA-Request. */
  extraCoa?: string;
  /** Interim-Updates per accounting session (between Start and Stop). */
  interims: number;
}

function esc(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** Builds and patches requests for one run. */
export class Workload {
  private readonly dict: Dictionary;
  private readonly secret: Buffer;
  readonly users: User[];
  /** Per user: passwords as bytes, good and wrong (same length, so the template layout holds). */
  private readonly good: Buffer[];
  private readonly wrong: Buffer[];
  private readonly pap: Template[] = [];
  private readonly chap: Template[] = [];
  private readonly status: Template[] = [];
  private readonly coa: Template[] = [];
  /** Per user: Start, Interim, Stop. */
  private readonly acct: [Template, Template, Template][] = [];
  /** Largest template, for sizing slot buffers. */
  maxLength = 0;
  /** Packets per accounting session: Start, interims, Stop. */
  readonly sessionLength: number;
  private readonly nonce = randomBytes(4).toString('hex');

  constructor(private readonly o: WorkloadOptions, kinds: readonly Kind[]) {
    this.dict = o.dict;
    this.secret = o.secret;
    this.users = o.users;
    this.sessionLength = 2 + Math.max(0, o.interims);
    this.good = o.users.map((u) => Buffer.from(u.password, 'utf8'));
    // A wrong password of the same length: the first byte changed.
    this.wrong = this.good.map((g) => {
      const w = Buffer.from(g.length ? g : Buffer.from('x'));
      w[0] = w[0] === 0x21 ? 0x22 : 0x21;
      return w;
    });
    const want = new Set(kinds);
    o.users.forEach((u, i) => {
      if (want.has('pap')) this.pap.push(this.build(PacketCode.AccessRequest, this.authText(u, i, `User-Password = "${esc(u.password)}"`), o.extraAuth));
      if (want.has('chap')) this.chap.push(this.build(PacketCode.AccessRequest, this.authText(u, i, 'CHAP-Password = 0x' + '00'.repeat(17)), o.extraAuth));
      if (want.has('status')) this.status.push(this.build(PacketCode.StatusServer, 'NAS-Identifier = "sandstorm"'));
      if (want.has('coa')) this.coa.push(this.build(PacketCode.CoARequest, this.coaText(u), o.extraCoa));
      if (want.has('acct')) {
        this.acct.push([ACCT_START, ACCT_INTERIM, ACCT_STOP].map((st) => this.build(PacketCode.AccountingRequest, this.acctText(u, i, st), o.extraAcct)) as [Template, Template, Template]);
      }
    });
  }

  private authText(u: User, i: number, password: string): string {
    const n = i + 1;
    const csid = `02-00-00-00-${((n >> 8) & 255).toString(16).padStart(2, '0').toUpperCase()}-${(n & 255).toString(16).padStart(2, '0').toUpperCase()}`;
    return `User-Name = "${esc(u.name)}", ${password}, NAS-IP-Address = 127.0.0.1, NAS-Port = ${n}, `
      + `NAS-Port-Type = Ethernet, Service-Type = Framed-User, Framed-Protocol = PPP, Calling-Station-Id = "${csid}"`;
  }

  private acctText(u: User, i: number, status: number): string {
    const n = i + 1;
    const name = status === ACCT_START ? 'Start' : status === ACCT_STOP ? 'Stop' : 'Interim-Update';
    let t = `Acct-Status-Type = ${name}, Acct-Session-Id = "${'0'.repeat(SESSION_ID_LEN)}", User-Name = "${esc(u.name)}", `
      + `NAS-IP-Address = 127.0.0.1, NAS-Port = ${n}, NAS-Port-Type = Ethernet, Service-Type = Framed-User, `
      + `Framed-IP-Address = 10.0.${(n >> 8) & 255}.${n & 255}, Acct-Delay-Time = 0, Event-Timestamp = 0`;
    if (status !== ACCT_START) {
      t += ', Acct-Session-Time = 600, Acct-Input-Octets = 123456789, Acct-Output-Octets = 987654321, '
        + 'Acct-Input-Packets = 12345, Acct-Output-Packets = 54321';
    }
    if (status === ACCT_STOP) t += ', Acct-Terminate-Cause = User-Request';
    return t;
  }

  private coaText(u: User): string {
    return `User-Name = "${esc(u.name)}", Acct-Session-Id = "${'0'.repeat(SESSION_ID_LEN)}", NAS-IP-Address = 127.0.0.1, Session-Timeout = 7200`;
  }

  private build(code: number, text: string, extra?: string): Template {
    const pairs = parsePairList(extra ? `${text}, ${extra}` : text, this.dict);
    const ma = code === PacketCode.AccessRequest || code === PacketCode.StatusServer;
    const bytes = Buffer.from(encodePacket({ code, id: 0, authenticator: Buffer.alloc(16), pairs }, {
      dict: this.dict, secret: this.secret, messageAuthenticator: ma,
    }));
    const pw = findAttr(bytes, 2);
    const t: Template = {
      code, bytes,
      passwordOff: pw.off, passwordLen: pw.len,
      chapOff: findAttr(bytes, 3).off,
      maOff: findAttr(bytes, 80).off,
      sessionOff: findAttr(bytes, 44).off,
      timeOff: findAttr(bytes, 55).off,
    };
    if (bytes.length > this.maxLength) this.maxLength = bytes.length;
    return t;
  }

  /**
   * Writes request number `seq` of `kind` for user index `u` with `id` into
   * `out` (at least maxLength + secret length bytes) and returns its length.
   * `bad` sends the wrong password (PAP/CHAP). For accounting, `seq` is the
   * per-user packet counter: it picks Start/Interim/Stop and the session.
   */
  encode(kind: Kind, u: number, seq: number, id: number, bad: boolean, out: Buffer): number {
    let t: Template;
    switch (kind) {
      case 'pap': t = this.pap[u]; break;
      case 'chap': t = this.chap[u]; break;
      case 'status': t = this.status[u]; break;
      case 'coa': t = this.coa[u]; break;
      default: {
        const phase = seq % this.sessionLength;
        t = this.acct[u][phase === 0 ? 0 : phase === this.sessionLength - 1 ? 2 : 1];
      }
    }
    const len = t.bytes.copy(out, 0);
    out[1] = id;
    if (t.code === PacketCode.AccessRequest || t.code === PacketCode.StatusServer) {
      const ra = randomBytes(16);
      ra.copy(out, 4);
      if (t.passwordOff >= 0) {
        encryptUserPassword(bad ? this.wrong[u] : this.good[u], this.secret, ra).copy(out, t.passwordOff);
      } else if (t.chapOff >= 0) {
        chapResponse(id, bad ? this.wrong[u] : this.good[u], ra).copy(out, t.chapOff);
      }
      if (t.maOff >= 0) {
        out.fill(0, t.maOff, t.maOff + 16);
        hmacMd5(this.secret, out.subarray(0, len)).copy(out, t.maOff);
      }
      return len;
    }
    // Accounting-Request / CoA-Request: the session, the time, then MD5(packet with zero vector ‖ secret).
    if (t.sessionOff >= 0) {
      const session = kind === 'acct' ? Math.floor(seq / this.sessionLength) * this.users.length + u : seq * this.users.length + u;
      out.write(this.nonce, t.sessionOff, 8, 'latin1');
      out.write((session >>> 0).toString(16).padStart(8, '0'), t.sessionOff + 8, 8, 'latin1');
    }
    if (t.timeOff >= 0) out.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, t.timeOff);
    out.fill(0, 4, 20);
    if (t.maOff >= 0) {
      out.fill(0, t.maOff, t.maOff + 16);
      hmacMd5(this.secret, out.subarray(0, len)).copy(out, t.maOff);
    }
    this.secret.copy(out, len);
    md5(out.subarray(0, len + this.secret.length)).copy(out, 4);
    return len;
  }

  /** The reply code that counts as success for a kind ('acct' → Accounting-Response, …). */
  static okCode(kind: Kind): number {
    switch (kind) {
      case 'pap': case 'chap': case 'status': return PacketCode.AccessAccept;
      case 'acct': return PacketCode.AccountingResponse;
      default: return PacketCode.CoAACK;
    }
  }

  /** Request code of a kind. */
  static code(kind: Kind): number {
    switch (kind) {
      case 'pap': case 'chap': return PacketCode.AccessRequest;
      case 'status': return PacketCode.StatusServer;
      case 'acct': return PacketCode.AccountingRequest;
      default: return PacketCode.CoARequest;
    }
  }
}
