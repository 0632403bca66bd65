/**
 * The PPPoE access concentrator of one lcore (part 2): PPPoE discovery (RFC 2516), PPP over it (LCP RFC 1661,
 * PAP RFC 1334, CHAP-MD5 RFC 1994, IPCP RFC 1332/1877), keep-alive, timeouts and the IPv4 data the concentrator
 * terminates itself (ICMP echo to its own address), on a raw socket (`native/`) polled from the lcore's loop.
 *
 * Authentication goes through the lcore's rings to the control plane (`Lcore.submitPap` / `submitChap`); the
 * answer comes back in `onResult`, which finishes the authentication phase and starts IPCP with the
 * Framed-IP-Address of the reply. Accounting records (Start, Interim-Update, Stop) go through the same ring
 * (`Lcore.submitAcct`).
 *
 * Everything per session is a preallocated typed array indexed by the session's slot (sid − sidBase), with no
 * object or closure per session; frames are parsed in place in the receive buffer and built in place in the
 * transmit buffer. Sessions are found by client MAC (and the session id checked) through an open-addressing table
 * of slot numbers. Timers are a wheel of `TICK_MS` buckets (intrusive lists in typed arrays, one wake-up time per
 * slot), so a tick costs the slots that are due, not the table size. Neither discovery (the cookie's HMAC is
 * `sha256.ts` over preallocated arrays) nor the session path allocates per frame.
 */
import { createHash, randomFillSync } from 'node:crypto';
import type { Lcore, LcoreApp } from './lcore';
import type { WireOptions } from './options';
import { AcctStatus, REQ, RESP, Result, TermCause } from './records';
import { C } from './shared';
import { HmacSha256 } from './sha256';

/** The raw socket as the engine uses it (native/index.ts; a plain object in unit tests). */
export interface FramePort {
  readonly mac: Uint8Array;
  recv(buffer: Uint8Array, slotSize: number, lengths: Uint32Array, max: number): number;
  send(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): number;
  wait(ms: number, wakeFd?: number): boolean;
}

export const ETH_DISCOVERY = 0x8863;
export const ETH_SESSION = 0x8864;
export const Code = { PADI: 0x09, PADO: 0x07, PADR: 0x19, PADS: 0x65, PADT: 0xa7, SESSION: 0 } as const;
export const Tag = {
  END: 0x0000, SERVICE_NAME: 0x0101, AC_NAME: 0x0102, HOST_UNIQ: 0x0103, AC_COOKIE: 0x0104, VENDOR: 0x0105,
  RELAY_SESSION_ID: 0x0110, PPP_MAX_PAYLOAD: 0x0120, SERVICE_NAME_ERROR: 0x0201, AC_SYSTEM_ERROR: 0x0202, GENERIC_ERROR: 0x0203,
} as const;
export const Proto = { LCP: 0xc021, PAP: 0xc023, CHAP: 0xc223, IPCP: 0x8021, IPV4: 0x0021, IPV6CP: 0x8057, IPV6: 0x0057 } as const;

/** Session phases. */
const FREE = 0;
const LCP = 1; // negotiating the link
const AUTH = 2; // link up, waiting for the peer's PAP request or CHAP response
const AUTH_WAIT = 3; // credentials submitted to the control plane
const NETWORK = 4; // authenticated, IPCP negotiating
const UP = 5; // IPCP opened: accounting started, data flows

const OUR_ACKED = 1;
const PEER_ACKED = 2;
const NO_MRU = 4; // the peer rejected our MRU option
const NO_MAGIC = 8; // the peer rejected our Magic-Number option
const RESENT_ON_PEER = 16; // our ConfReq was resent when the peer's first ConfReq arrived
const V6_UP = 32; // IPV6CP opened
const V6_CLOSED = 64; // IPV6CP given up (rejected, terminated, or Max-Configure reached)

const TICK_MS = 100;
const WHEEL = 1024; // buckets of TICK_MS: one turn = 102.4 s
const USER_INLINE = 32; // User-Name bytes kept per slot; longer names go to a map
const SID_SPACE = 65534; // PPPoE session ids 1 … 0xFFFE
const U32_MAX = 0xffffffff;
const SLOT = 2048; // receive slot (frames up to 2044 bytes)
const TX_SLOT = 1536;
const BATCH = 32;
const MAC_BUCKETS = 4096; // per-MAC discovery token buckets (hashed; colliding MACs share one)
const COOKIE_WINDOW_MS = 60_000;
const COOKIE_LEN = 20; // window (4) + HMAC-SHA256 truncated (16)

/** The data-plane side of one lcore's wire. */
export class PppoeEngine implements LcoreApp {
  private readonly max: number;
  private readonly base: number;
  // receive / transmit
  private readonly rx = new Uint8Array(BATCH * SLOT);
  private readonly rxLen = new Uint32Array(BATCH);
  private readonly tx = new Uint8Array(BATCH * TX_SLOT);
  private readonly txOff = new Uint32Array(BATCH).map((_, i) => i * TX_SLOT);
  private readonly txLen = new Uint32Array(BATCH);
  private txCount = 0;
  // per session (index = slot)
  private readonly phase: Uint8Array;
  private readonly mac: Uint8Array;
  private readonly svlan: Uint16Array;
  private readonly cvlan: Uint16Array;
  private readonly outerTpid: Uint16Array;
  private readonly lcpFlags: Uint8Array;
  private readonly lcpId: Uint8Array;
  private readonly lcpCount: Uint8Array;
  private readonly lcpDue: Float64Array;
  private readonly ourMagic: Uint32Array;
  private readonly peerMru: Uint16Array;
  private readonly authProto: Uint16Array;
  private readonly authId: Uint8Array; // PAP request id / CHAP challenge id
  private readonly authCount: Uint8Array;
  private readonly authDue: Float64Array;
  private readonly challenge: Uint8Array;
  private readonly user: Uint8Array; // User-Name for accounting (USER_INLINE bytes per slot)
  private readonly userLen: Uint8Array;
  private readonly ipcpFlags: Uint8Array;
  private readonly ipcpId: Uint8Array;
  private readonly ipcpCount: Uint8Array;
  private readonly ipcpDue: Float64Array;
  private readonly ip: Uint32Array;
  private readonly dns1: Uint32Array;
  private readonly dns2: Uint32Array;
  private readonly echoDue: Float64Array;
  private readonly echoMiss: Uint8Array;
  private readonly lastData: Float64Array;
  private readonly idleMs: Uint32Array; // ms, at most U32_MAX (49.7 days)
  private readonly interimMs: Uint32Array;
  private readonly interimDue: Float64Array;
  private readonly startAt: Float64Array;
  /** Octets and packets: [inOctets, outOctets, inPackets, outPackets] per slot (in = from the client). */
  private readonly traffic: Float64Array;
  // per-session rate limits (bytes/s; 0 = none) and token buckets (up = from the client)
  private readonly rateUp: Float64Array;
  private readonly rateDown: Float64Array;
  private readonly tokUp: Float32Array; // bytes (a burst: float precision is plenty)
  private readonly tokDown: Float32Array;
  private readonly tokAt: Float64Array;
  /**
   * Sessions by client MAC (RFC 2516 keys a session by the two MACs and the session id; one session per client MAC
   * per lcore, so the MAC finds the slot and the session id is compared): open addressing with linear probing and
   * backward-shift deletion, entries = slot + 1 (0 = empty), the key read from `mac` of the slot.
   */
  private readonly macTab: Int32Array;
  private readonly macBits: number;
  // discovery token buckets per MAC hash
  private readonly discTokens = new Float64Array(MAC_BUCKETS);
  private readonly discAt = new Float64Array(MAC_BUCKETS);
  // scratch
  private readonly acName: Uint8Array;
  private readonly serviceNames: Uint8Array[];
  // the cookie's HMAC over preallocated arrays (no allocation per PADI and PADR): window ‖ MAC ‖ S-VLAN ‖ C-VLAN
  private readonly hmac: HmacSha256;
  private readonly cookieMsg = new Uint8Array(14);
  private readonly cookieOut = new Uint8Array(COOKIE_LEN);
  private readonly replyMsg = new Uint8Array(RESP.REPLY_MSG_MAX);
  private nextTick = 0;
  private seq = 1;
  private clock = 0;
  // the uplink (optional): its own receive and transmit batches, the next hop's MAC, session address → slot
  private readonly urx: Uint8Array;
  private readonly urxLen = new Uint32Array(BATCH);
  private readonly utx: Uint8Array;
  private readonly utxOff = new Uint32Array(BATCH).map((_, i) => i * TX_SLOT);
  private readonly utxLen = new Uint32Array(BATCH);
  private utxCount = 0;
  private readonly gwMac = new Uint8Array(6);
  private gwKnown = false;
  private arpDue = 0;
  /** Sessions that are up by address (uplink and ARP): same layout as `macTab`, the key read from `ip`. */
  private readonly ipTab: Int32Array;
  private readonly ipBits: number;
  // the timer wheel: one wake-up time per slot (the earliest of its timers) in a bucket of TICK_MS; a slot whose
  // wake-up lies beyond one turn stays in its bucket and is skipped until its turn comes
  private readonly wake: Float64Array;
  private readonly wNext: Int32Array;
  private readonly wPrev: Int32Array;
  private readonly wBucket: Int32Array; // -1 = not armed
  private readonly wHead = new Int32Array(WHEEL).fill(-1);
  private wheelTick = -1;
  /** User-Name for accounting: USER_INLINE bytes per slot; longer names (rare) in a map. */
  private readonly userLong = new Map<number, Uint8Array>();
  // IPV6CP (when enabled): state flags, our request id, retransmissions, interface identifiers (8 bytes per slot)
  private readonly v6Flags: Uint8Array;
  private readonly v6Id: Uint8Array;
  private readonly v6Count: Uint8Array;
  private readonly v6Due: Float64Array;
  private readonly v6Ours: Uint8Array;
  private readonly v6Peer: Uint8Array;

  constructor(
    private readonly lc: Lcore,
    private readonly port: FramePort,
    private readonly w: WireOptions,
    private readonly lcoreId: number,
    private readonly lcores: number,
    private readonly uplink?: FramePort,
  ) {
    const n = (this.max = lc.maxSessions);
    this.base = lc.sidBase;
    this.phase = new Uint8Array(n);
    this.mac = new Uint8Array(n * 6);
    this.svlan = new Uint16Array(n);
    this.cvlan = new Uint16Array(n);
    this.outerTpid = new Uint16Array(n);
    this.lcpFlags = new Uint8Array(n);
    this.lcpId = new Uint8Array(n);
    this.lcpCount = new Uint8Array(n);
    this.lcpDue = new Float64Array(n);
    this.ourMagic = new Uint32Array(n);
    this.peerMru = new Uint16Array(n);
    this.authProto = new Uint16Array(n);
    this.authId = new Uint8Array(n);
    this.authCount = new Uint8Array(n);
    this.authDue = this.lcpDue; // one array for the three negotiation timers: LCP, AUTH and NETWORK never overlap
    this.challenge = new Uint8Array(n * 16);
    this.user = new Uint8Array(n * USER_INLINE);
    this.userLen = new Uint8Array(n);
    this.ipcpFlags = new Uint8Array(n);
    this.ipcpId = new Uint8Array(n);
    this.ipcpCount = new Uint8Array(n);
    this.ipcpDue = this.lcpDue;
    this.ip = new Uint32Array(n);
    this.dns1 = new Uint32Array(n);
    this.dns2 = new Uint32Array(n);
    this.echoDue = new Float64Array(n);
    this.echoMiss = new Uint8Array(n);
    this.lastData = new Float64Array(n);
    this.idleMs = new Uint32Array(n);
    this.interimMs = new Uint32Array(n);
    this.interimDue = new Float64Array(n);
    this.startAt = new Float64Array(n);
    this.traffic = new Float64Array(n * 4);
    this.rateUp = new Float64Array(n);
    this.rateDown = new Float64Array(n);
    this.tokUp = new Float32Array(n);
    this.tokDown = new Float32Array(n);
    this.tokAt = new Float64Array(n);
    this.macBits = tableBits(n);
    this.macTab = new Int32Array(1 << this.macBits);
    this.ipBits = tableBits(n);
    this.ipTab = new Int32Array(1 << this.ipBits);
    this.wake = new Float64Array(n);
    this.wNext = new Int32Array(n);
    this.wPrev = new Int32Array(n);
    this.wBucket = new Int32Array(n).fill(-1);
    this.acName = new Uint8Array(Buffer.from(w.acName, 'utf8'));
    this.serviceNames = w.serviceNames.map((s) => new Uint8Array(Buffer.from(s, 'utf8')));
    let key = Buffer.from(w.cookieSecret, 'utf8');
    if (key.length > 64) key = createHash('sha256').update(key).digest();
    this.hmac = new HmacSha256(key);
    const v6 = w.ipv6cp ? n : 0;
    this.v6Flags = new Uint8Array(v6);
    this.v6Id = new Uint8Array(v6);
    this.v6Count = new Uint8Array(v6);
    this.v6Due = new Float64Array(v6);
    this.v6Ours = new Uint8Array(v6 * 8);
    this.v6Peer = new Uint8Array(v6 * 8);
    this.urx = new Uint8Array(uplink ? BATCH * SLOT : 0);
    this.utx = new Uint8Array(uplink ? BATCH * TX_SLOT : 0);
  }

  // ---- the loop ----

  /** One iteration: a burst of frames in, timers when due. Returns the work done. */
  poll(t: number): number {
    this.clock = t;
    let work = 0;
    const got = this.port.recv(this.rx, SLOT, this.rxLen, BATCH);
    if (got < 0) this.lc.count(C.wire_rx_errors);
    for (let i = 0; i < got; i++) this.frame(i * SLOT, this.rxLen[i]);
    if (got > 0) {
      this.lc.count(C.wire_rx_frames, got);
      work += got;
    }
    const up = this.uplink;
    if (up) {
      const n = up.recv(this.urx, SLOT, this.urxLen, BATCH);
      if (n < 0) this.lc.count(C.wire_rx_errors);
      for (let i = 0; i < n; i++) this.uplinkFrame(i * SLOT, this.urxLen[i]);
      if (n > 0) {
        this.lc.count(C.wire_rx_frames, n);
        work += n;
      }
    }
    if (t >= this.nextTick) {
      this.nextTick = t + TICK_MS;
      work += this.tick(t);
      if (up && !this.gwKnown && t >= this.arpDue) this.arp(1, this.w.uplink!.gateway, BCAST_MAC, 0);
    }
    return work;
  }

  /** Sends the frames built in this iteration (one sendmmsg). */
  flush(): void {
    if (this.utxCount > 0) {
      const n = this.uplink!.send(this.utx, this.utxOff, this.utxLen, this.utxCount);
      if (n > 0) this.lc.count(C.wire_tx_frames, n);
      if (n < this.utxCount) this.lc.count(C.wire_tx_drops, this.utxCount - Math.max(n, 0));
      this.utxCount = 0;
    }
    if (this.txCount === 0) return;
    const n = this.port.send(this.tx, this.txOff, this.txLen, this.txCount);
    if (n > 0) this.lc.count(C.wire_tx_frames, n);
    if (n < this.txCount) this.lc.count(C.wire_tx_drops, this.txCount - Math.max(n, 0));
    this.txCount = 0;
  }

  /** Idle back-off: sleeps up to `ms` or until a frame arrives (or `wakeFd` is written). */
  wait(ms: number, wakeFd?: number): void {
    this.port.wait(ms, wakeFd);
  }

  /** The next moment a timer is due. */
  nextDue(): number {
    return this.nextTick;
  }

  // ---- LcoreApp ----

  onResult(sid: number, result: number, respOff: number): void {
    const slot = sid - this.base;
    if (slot < 0 || slot >= this.max || this.phase[slot] !== AUTH_WAIT) return;
    const ring = this.lc.responseRing;
    const dv = ring.dv;
    const u8 = ring.u8;
    let msgLen = 0;
    if (respOff >= 0) {
      msgLen = u8[respOff + RESP.REPLY_MSG_LEN];
      for (let i = 0; i < msgLen; i++) this.replyMsg[i] = u8[respOff + RESP.REPLY_MSG + i];
    }
    if (result === Result.ACCEPT) {
      let ip = dv.getUint32(respOff + RESP.FRAMED_IP, true);
      if (ip === 0 && this.w.poolBase !== 0) ip = (this.w.poolBase + sid) >>> 0;
      if (ip === 0) {
        this.lc.count(C.wire_no_address);
        this.authReply(slot, false, NO_ADDRESS, 0, NO_ADDRESS.length);
        this.terminate(slot, TermCause.SERVICE_UNAVAILABLE, true);
        return;
      }
      this.ip[slot] = ip;
      this.dns1[slot] = dv.getUint32(respOff + RESP.DNS1, true) || this.w.dns[0] || 0;
      this.dns2[slot] = dv.getUint32(respOff + RESP.DNS2, true) || this.w.dns[1] || 0;
      this.idleMs[slot] = Math.min(U32_MAX, dv.getUint32(respOff + RESP.IDLE_TIMEOUT, true) * 1000);
      this.setRates(slot, dv.getUint32(respOff + RESP.RATE_UP, true), dv.getUint32(respOff + RESP.RATE_DOWN, true));
      this.interimMs[slot] = Math.min(U32_MAX, interimOf(u8, respOff) * 1000 || this.w.interimMs);
      this.authReply(slot, true, this.replyMsg, 0, msgLen);
      this.phase[slot] = NETWORK;
      this.ipcpFlags[slot] = 0;
      this.ipcpCount[slot] = 0;
      this.sendIpcpRequest(slot, true);
      if (this.w.ipv6cp) {
        this.v6Flags[slot] = 0;
        this.v6Count[slot] = 0;
        randomIfid(this.v6Ours, slot * 8);
        this.v6Peer.fill(0, slot * 8, slot * 8 + 8);
        this.sendV6Request(slot, true);
      }
      return;
    }
    if (msgLen === 0) this.authReply(slot, false, AUTH_FAILED, 0, AUTH_FAILED.length);
    else this.authReply(slot, false, this.replyMsg, 0, msgLen);
    this.lc.count(C.wire_auth_failed);
    // The lcore closes the session after this call; the peer is told now.
    this.terminate(slot, TermCause.USER_ERROR, true);
  }

  onExpired(sid: number): void {
    const slot = sid - this.base;
    if (slot >= 0 && slot < this.max && this.phase[slot] !== FREE) this.terminate(slot, TermCause.SESSION_TIMEOUT, true);
  }

  // ---- operator / CoA ----

  /** Ends a session from the control side (Disconnect, CLI). False when it is not ours or not up. */
  disconnect(sid: number, cause: number): boolean {
    const slot = sid - this.base;
    if (slot < 0 || slot >= this.max || this.phase[slot] === FREE) return false;
    this.terminate(slot, cause, true);
    return true;
  }

  /** Changes a live session's limits (CoA): rates in bits/s, timeouts in seconds (undefined = unchanged). */
  change(sid: number, rateUp: number, rateDown: number, sessionTimeout: number, idleTimeout: number): boolean {
    const slot = sid - this.base;
    if (slot < 0 || slot >= this.max || this.phase[slot] < NETWORK) return false;
    if (rateUp >= 0 || rateDown >= 0) {
      this.setRates(slot, rateUp >= 0 ? rateUp : this.rateUp[slot] * 8, rateDown >= 0 ? rateDown : this.rateDown[slot] * 8);
    }
    if (idleTimeout >= 0) {
      this.idleMs[slot] = Math.min(U32_MAX, idleTimeout * 1000);
      this.rearm(slot);
    }
    if (sessionTimeout >= 0) this.lc.setSessionTimeout(sid, sessionTimeout);
    return true;
  }

  /** A session's live state (the operator's session list; never a credential). Times are epoch ms (0 = none). */
  describe(sid: number): SessionView | undefined {
    const slot = sid - this.base;
    if (slot < 0 || slot >= this.max || this.phase[slot] === FREE) return undefined;
    const m = Array.from(this.mac.subarray(slot * 6, slot * 6 + 6), (b) => b.toString(16).padStart(2, '0')).join(':');
    const tr = slot * 4;
    const ul = this.userLen[slot];
    return {
      sid, lcore: this.lcoreId, mac: m, svlan: this.svlan[slot], cvlan: this.cvlan[slot], phase: PHASE_NAMES[this.phase[slot]],
      user: Buffer.from(ul > USER_INLINE ? this.userLong.get(slot)! : this.user.subarray(slot * USER_INLINE, slot * USER_INLINE + ul)).toString('utf8'),
      auth: this.authProto[slot] === Proto.PAP ? 'pap' : 'chap',
      ip: ipString(this.ip[slot]), dns: [this.dns1[slot], this.dns2[slot]].filter((x) => x !== 0).map(ipString),
      up: this.phase[slot] === UP, startedAt: this.startAt[slot], lastDataAt: this.lastData[slot],
      octetsIn: this.traffic[tr], octetsOut: this.traffic[tr + 1], packetsIn: this.traffic[tr + 2], packetsOut: this.traffic[tr + 3],
      rateUp: this.rateUp[slot] * 8, rateDown: this.rateDown[slot] * 8, idleTimeout: this.idleMs[slot] / 1000, interimInterval: this.interimMs[slot] / 1000,
      ipv6cp: !this.w.ipv6cp ? 'off' : this.v6Flags[slot] & V6_UP ? 'up' : this.v6Flags[slot] & V6_CLOSED ? 'closed' : 'negotiating',
      ipv6Local: this.w.ipv6cp && this.v6Count[slot] > 0 ? ifidString(this.v6Ours, slot * 8) : null,
      ipv6Peer: this.w.ipv6cp && this.v6Flags[slot] & PEER_ACKED ? ifidString(this.v6Peer, slot * 8) : null,
    };
  }

  /** Session ids in use (the session list). */
  sessions(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.max; s++) if (this.phase[s] !== FREE) out.push(this.base + s);
    return out;
  }

  // ---- receive ----

  private frame(off: number, len: number): void {
    const b = this.rx;
    if (len < 14 + 6) return;
    const own = this.port.mac;
    // drop what is not for us (unicast to another MAC) and our own frames
    const bcast = (b[off] & 1) === 1;
    if (!bcast && !(b[off] === own[0] && b[off + 1] === own[1] && b[off + 2] === own[2] && b[off + 3] === own[3] && b[off + 4] === own[4] && b[off + 5] === own[5])) return;
    let p = off + 12;
    let type = (b[p] << 8) | b[p + 1];
    let sv = 0;
    let cv = 0;
    let tpid = 0;
    if (type === 0x8100 || type === 0x88a8) {
      tpid = type;
      cv = ((b[p + 2] << 8) | b[p + 3]) & 0xfff;
      p += 4;
      type = (b[p] << 8) | b[p + 1];
      if (type === 0x8100) {
        sv = cv;
        cv = ((b[p + 2] << 8) | b[p + 3]) & 0xfff;
        p += 4;
        type = (b[p] << 8) | b[p + 1];
      }
    }
    p += 2;
    if (type !== ETH_DISCOVERY && type !== ETH_SESSION) return;
    const end = off + len;
    if (p + 6 > end || b[p] !== 0x11) return;
    const code = b[p + 1];
    const sid = (b[p + 2] << 8) | b[p + 3];
    const plen = (b[p + 4] << 8) | b[p + 5];
    const pay = p + 6;
    if (pay + plen > end) return;
    // Every frame of a client MAC is handled by one lcore (every lcore sees every frame; see README).
    if (this.lcores > 1 && macHash(b, off + 6) % this.lcores !== this.lcoreId) return;
    if (type === ETH_SESSION) {
      if (code === Code.SESSION) this.session(off, sid, pay, plen);
      return;
    }
    if (code === Code.PADT) {
      this.padt(off, sid);
      return;
    }
    if (code === Code.PADI && bcast) this.padi(off, sv, cv, tpid, pay, plen);
    else if (code === Code.PADR && !bcast) this.padr(off, sv, cv, tpid, pay, plen);
  }

  /** Tags of the discovery frame being handled (offsets into rx; -1 = absent). */
  private tSn = -1;
  private tSnLen = 0;
  private tSnCount = 0;
  private tHu = -1;
  private tHuLen = 0;
  private tRelay = -1;
  private tRelayLen = 0;
  private tCookie = -1;
  private tCookieLen = 0;

  private parseTags(pay: number, plen: number): boolean {
    const b = this.rx;
    this.tSn = this.tHu = this.tRelay = this.tCookie = -1;
    this.tSnCount = 0;
    let p = pay;
    const end = pay + plen;
    while (p + 4 <= end) {
      const tt = (b[p] << 8) | b[p + 1];
      const tl = (b[p + 2] << 8) | b[p + 3];
      const v = p + 4;
      if (v + tl > end) return false;
      if (tt === Tag.END) break;
      if (tt === Tag.SERVICE_NAME) {
        if (this.tSnCount++ === 0) { this.tSn = v; this.tSnLen = tl; }
      } else if (tt === Tag.HOST_UNIQ) { this.tHu = v; this.tHuLen = tl; }
      else if (tt === Tag.RELAY_SESSION_ID) { this.tRelay = v; this.tRelayLen = tl; }
      else if (tt === Tag.AC_COOKIE) { this.tCookie = v; this.tCookieLen = tl; }
      p = v + tl;
    }
    return true;
  }

  /** True when the Service-Name just parsed is one we serve (empty = any; no list configured = any). */
  private serviceOk(): boolean {
    if (this.tSnLen === 0 || this.serviceNames.length === 0) return true;
    const b = this.rx;
    for (const s of this.serviceNames) {
      if (s.length !== this.tSnLen) continue;
      let eq = true;
      for (let i = 0; i < s.length && eq; i++) eq = s[i] === b[this.tSn + i];
      if (eq) return true;
    }
    return false;
  }

  /** Per-MAC token bucket for PADI/PADR (the auth DoS guard). */
  private admitDiscovery(off: number): boolean {
    const h = macHash(this.rx, off + 6) & (MAC_BUCKETS - 1);
    const t = this.clock;
    const rate = this.w.discoveryRate;
    const burst = this.w.discoveryBurst;
    let tok = this.discAt[h] === 0 ? burst : Math.min(burst, this.discTokens[h] + ((t - this.discAt[h]) * rate) / 1000);
    this.discAt[h] = t;
    if (tok < 1) {
      this.discTokens[h] = tok;
      this.lc.count(C.wire_discovery_limited);
      return false;
    }
    tok -= 1;
    this.discTokens[h] = tok;
    return true;
  }

  private padi(off: number, sv: number, cv: number, tpid: number, pay: number, plen: number): void {
    this.lc.count(C.wire_padi);
    if (!this.parseTags(pay, plen) || this.tSnCount !== 1) return;
    if (!this.admitDiscovery(off)) return;
    if (!this.serviceOk()) {
      // RFC 2516: an AC that cannot serve the PADI does not answer it.
      this.lc.count(C.wire_service_name_errors);
      return;
    }
    const f = this.startFrame(this.rx, off + 6, sv, cv, tpid, ETH_DISCOVERY, Code.PADO, 0);
    if (f < 0) return;
    let q = f;
    q = this.tag(q, Tag.AC_NAME, this.acName, 0, this.acName.length);
    q = this.tag(q, Tag.SERVICE_NAME, this.rx, this.tSn, this.tSnLen);
    for (const s of this.serviceNames) {
      if (s.length !== this.tSnLen || !this.sameAsTag(s)) q = this.tag(q, Tag.SERVICE_NAME, s, 0, s.length);
    }
    const cookie = this.cookie(off + 6, sv, cv, Math.floor(this.clock / COOKIE_WINDOW_MS));
    q = this.tag(q, Tag.AC_COOKIE, cookie, 0, cookie.length);
    if (this.tHu >= 0) q = this.tag(q, Tag.HOST_UNIQ, this.rx, this.tHu, this.tHuLen);
    if (this.tRelay >= 0) q = this.tag(q, Tag.RELAY_SESSION_ID, this.rx, this.tRelay, this.tRelayLen);
    this.endFrame(f, q);
    this.lc.count(C.wire_pado);
  }

  private sameAsTag(s: Uint8Array): boolean {
    for (let i = 0; i < s.length; i++) if (s[i] !== this.rx[this.tSn + i]) return false;
    return true;
  }

  /**
   * AC-Cookie: window (4 bytes) + HMAC-SHA256(secret, window ‖ MAC ‖ S-VLAN ‖ C-VLAN)[0..16], in `cookieOut`
   * (overwritten by the next call).
   */
  private cookie(macOff: number, sv: number, cv: number, window: number): Uint8Array {
    const m = this.cookieMsg;
    const out = this.cookieOut;
    m[0] = out[0] = window >>> 24;
    m[1] = out[1] = window >>> 16;
    m[2] = out[2] = window >>> 8;
    m[3] = out[3] = window;
    for (let i = 0; i < 6; i++) m[4 + i] = this.rx[macOff + i];
    m[10] = sv >>> 8;
    m[11] = sv;
    m[12] = cv >>> 8;
    m[13] = cv;
    this.hmac.mac(m, 0, 14, out, 4, 16);
    return out;
  }

  private cookieValid(macOff: number, sv: number, cv: number): boolean {
    if (this.tCookie < 0 || this.tCookieLen !== COOKIE_LEN) return false;
    const b = this.rx;
    const at = this.tCookie;
    const window = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
    const now = Math.floor(this.clock / COOKIE_WINDOW_MS) >>> 0;
    if (window !== now && window !== ((now - 1) >>> 0)) return false;
    const want = this.cookie(macOff, sv, cv, window);
    let diff = 0; // every byte compared, whatever differs (no early exit: constant time)
    for (let i = 0; i < COOKIE_LEN; i++) diff |= want[i] ^ b[at + i];
    return diff === 0;
  }

  private padr(off: number, sv: number, cv: number, tpid: number, pay: number, plen: number): void {
    this.lc.count(C.wire_padr);
    if (!this.parseTags(pay, plen)) return;
    if (!this.admitDiscovery(off)) return;
    if (!this.cookieValid(off + 6, sv, cv)) {
      this.lc.count(C.wire_cookie_invalid);
      return;
    }
    if (this.tSnCount !== 1 || !this.serviceOk()) {
      this.lc.count(C.wire_service_name_errors);
      this.pads(off, sv, cv, tpid, 0, Tag.SERVICE_NAME_ERROR, SERVICE_UNAVAILABLE);
      return;
    }
    const old = this.findMac(this.rx, off + 6);
    if (old >= 0) {
      if (this.phase[old] === LCP && this.svlan[old] === sv && this.cvlan[old] === cv) {
        // a retransmitted PADR (our PADS was lost): the same session again
        this.pads(off, sv, cv, tpid, this.wireSid(old), 0, null);
        return;
      }
      this.terminate(old, TermCause.USER_REQUEST, true);
    }
    const sid = this.lc.openSession(this.rx, off + 6, sv, cv);
    if (sid === 0) {
      this.lc.count(C.wire_ac_system_errors);
      this.pads(off, sv, cv, tpid, 0, Tag.AC_SYSTEM_ERROR, NO_RESOURCES);
      return;
    }
    const slot = sid - this.base;
    this.initSession(slot, off + 6, sv, cv, tpid);
    this.insertMac(slot);
    this.pads(off, sv, cv, tpid, this.wireSid(slot), 0, null);
    this.sendLcpRequest(slot);
  }

  private pads(off: number, sv: number, cv: number, tpid: number, sid: number, errTag: number, err: Uint8Array | null): void {
    const f = this.startFrame(this.rx, off + 6, sv, cv, tpid, ETH_DISCOVERY, Code.PADS, sid);
    if (f < 0) return;
    let q = f;
    q = this.tag(q, Tag.SERVICE_NAME, this.rx, this.tSn, this.tSn >= 0 ? this.tSnLen : 0);
    if (this.tHu >= 0) q = this.tag(q, Tag.HOST_UNIQ, this.rx, this.tHu, this.tHuLen);
    if (this.tRelay >= 0) q = this.tag(q, Tag.RELAY_SESSION_ID, this.rx, this.tRelay, this.tRelayLen);
    if (err) q = this.tag(q, errTag, err, 0, err.length);
    this.endFrame(f, q);
    this.lc.count(C.wire_pads);
  }

  private padt(off: number, sid: number): void {
    const slot = this.findMac(this.rx, off + 6);
    if (slot < 0) return;
    if (this.wireSid(slot) !== sid) {
      this.lc.count(C.wire_mac_mismatch);
      return;
    }
    this.lc.count(C.wire_padt_in);
    this.terminate(slot, TermCause.USER_REQUEST, false);
  }

  /**
   * The PPPoE session id on the wire for a slot: 1 … 65534, unique among this process's sessions while the
   * process holds at most 65534 of them (then it equals the internal id), and beyond that unique per client MAC,
   * which is all RFC 2516 asks (a session is keyed by both MACs and the id).
   */
  private wireSid(slot: number): number {
    return ((this.base + slot - 1) % SID_SPACE) + 1;
  }

  // ---- the session tables (open addressing, slot + 1 per entry) ----

  private findMac(b: Uint8Array, at: number): number {
    const t = this.macTab;
    const mask = t.length - 1;
    const m = this.mac;
    for (let i = mixHash(macHash(b, at), this.macBits); ; i = (i + 1) & mask) {
      const e = t[i];
      if (e === 0) return -1;
      const s = (e - 1) * 6;
      if (m[s] === b[at] && m[s + 1] === b[at + 1] && m[s + 2] === b[at + 2] && m[s + 3] === b[at + 3] && m[s + 4] === b[at + 4] && m[s + 5] === b[at + 5]) return e - 1;
    }
  }

  private insertMac(slot: number): void {
    const t = this.macTab;
    const mask = t.length - 1;
    let i = mixHash(macHash(this.mac, slot * 6), this.macBits);
    while (t[i] !== 0) i = (i + 1) & mask;
    t[i] = slot + 1;
  }

  private deleteMac(slot: number): void {
    const t = this.macTab;
    const mask = t.length - 1;
    let i = mixHash(macHash(this.mac, slot * 6), this.macBits);
    for (; t[i] !== slot + 1; i = (i + 1) & mask) if (t[i] === 0) return;
    // backward shift: pull later entries of the run into the hole when their home is not after it
    for (let j = (i + 1) & mask; t[j] !== 0; j = (j + 1) & mask) {
      const home = mixHash(macHash(this.mac, (t[j] - 1) * 6), this.macBits);
      if (((j - home) & mask) >= ((j - i) & mask)) {
        t[i] = t[j];
        i = j;
      }
    }
    t[i] = 0;
  }

  private findIp(ip: number): number {
    const t = this.ipTab;
    const mask = t.length - 1;
    for (let i = mixHash(ip, this.ipBits); ; i = (i + 1) & mask) {
      const e = t[i];
      if (e === 0) return -1;
      if (this.ip[e - 1] === ip) return e - 1;
    }
  }

  /** The address now leads to `slot` (a newer session with the same address takes it over, as before with a Map). */
  private insertIp(slot: number): void {
    const t = this.ipTab;
    const mask = t.length - 1;
    const ip = this.ip[slot];
    let i = mixHash(ip, this.ipBits);
    while (t[i] !== 0 && this.ip[t[i] - 1] !== ip) i = (i + 1) & mask;
    t[i] = slot + 1;
  }

  private deleteIp(slot: number): void {
    const t = this.ipTab;
    const mask = t.length - 1;
    let i = mixHash(this.ip[slot], this.ipBits);
    for (; t[i] !== slot + 1; i = (i + 1) & mask) if (t[i] === 0) return;
    for (let j = (i + 1) & mask; t[j] !== 0; j = (j + 1) & mask) {
      const home = mixHash(this.ip[t[j] - 1], this.ipBits);
      if (((j - home) & mask) >= ((j - i) & mask)) {
        t[i] = t[j];
        i = j;
      }
    }
    t[i] = 0;
  }

  // ---- the timer wheel ----

  /** The slot wakes up at `due` at the latest (an earlier wake-up stays; the scan re-arms from its timers). */
  private arm(slot: number, due: number): void {
    if (this.wBucket[slot] >= 0) {
      if (this.wake[slot] <= due) return;
      this.unarm(slot);
    }
    this.wake[slot] = due;
    let tk = Math.floor(due / TICK_MS);
    if (tk <= this.wheelTick) tk = this.wheelTick + 1;
    const b = tk & (WHEEL - 1);
    const h = this.wHead[b];
    this.wNext[slot] = h;
    this.wPrev[slot] = -1;
    if (h >= 0) this.wPrev[h] = slot;
    this.wHead[b] = slot;
    this.wBucket[slot] = b;
  }

  private unarm(slot: number): void {
    const b = this.wBucket[slot];
    if (b < 0) return;
    const n = this.wNext[slot];
    const p = this.wPrev[slot];
    if (p >= 0) this.wNext[p] = n;
    else this.wHead[b] = n;
    if (n >= 0) this.wPrev[n] = p;
    this.wBucket[slot] = -1;
  }

  /** Arms the slot at its earliest pending timer (none: not armed). */
  private rearm(s: number): void {
    const ph = this.phase[s];
    if (ph === FREE) return;
    const w = this.w;
    let due = Infinity;
    if (ph === LCP) {
      if (!(this.lcpFlags[s] & OUR_ACKED)) due = this.lcpDue[s];
    } else {
      if (ph === AUTH) due = this.authDue[s];
      if (ph === NETWORK && !(this.ipcpFlags[s] & OUR_ACKED)) due = Math.min(due, this.ipcpDue[s]);
      if (w.ipv6cp && ph >= NETWORK && this.v6Count[s] > 0 && !(this.v6Flags[s] & (OUR_ACKED | V6_CLOSED))) due = Math.min(due, this.v6Due[s]);
      if (w.echoIntervalMs > 0) due = Math.min(due, this.echoDue[s]);
      if (ph === UP) {
        if (this.idleMs[s] > 0) due = Math.min(due, this.lastData[s] + this.idleMs[s]);
        if (this.interimMs[s] > 0) due = Math.min(due, this.interimDue[s]);
      }
    }
    if (due !== Infinity) this.arm(s, due);
  }

  private initSession(slot: number, macOff: number, sv: number, cv: number, tpid: number): void {
    for (let i = 0; i < 6; i++) this.mac[slot * 6 + i] = this.rx[macOff + i];
    this.svlan[slot] = sv;
    this.cvlan[slot] = cv;
    this.outerTpid[slot] = tpid;
    this.phase[slot] = LCP;
    this.lcpFlags[slot] = 0;
    this.lcpCount[slot] = 0;
    this.lcpId[slot] = this.seq++ & 255;
    let magic = 0;
    while (magic === 0) magic = (Math.random() * 0x100000000) >>> 0;
    this.ourMagic[slot] = magic;
    this.peerMru[slot] = 1492;
    this.authProto[slot] = this.w.auth === 'pap' ? Proto.PAP : Proto.CHAP;
    this.authCount[slot] = 0;
    this.echoMiss[slot] = 0;
    this.ip[slot] = 0;
    this.idleMs[slot] = 0;
    this.interimMs[slot] = 0;
    this.startAt[slot] = 0;
    this.lastData[slot] = this.clock;
    this.traffic.fill(0, slot * 4, slot * 4 + 4);
    this.rateUp[slot] = this.rateDown[slot] = 0;
  }

  // ---- PPP ----

  private session(off: number, sid: number, pay: number, plen: number): void {
    // (client MAC, session id): the MAC finds the slot, the id must be the one this MAC was given
    const slot = this.findMac(this.rx, off + 6);
    if (slot < 0) {
      this.lc.count(C.wire_unknown_session);
      return;
    }
    if (this.wireSid(slot) !== sid) {
      this.lc.count(C.wire_mac_mismatch);
      return;
    }
    if (plen < 2) return;
    const b = this.rx;
    const proto = (b[pay] << 8) | b[pay + 1];
    const p = pay + 2;
    const len = plen - 2;
    if (proto === Proto.IPV4) {
      this.ipv4(slot, p, len);
      return;
    }
    if (proto === Proto.IPV6 && this.w.ipv6cp) {
      // IPv6 is negotiated (link-local identifiers) but not routed: counted and dropped, never Protocol-Rejected
      if (this.phase[slot] === UP) {
        this.traffic[slot * 4] += len;
        this.traffic[slot * 4 + 2]++;
      }
      this.lc.count(C.wire_ipv4_dropped);
      return;
    }
    if (len < 4) return;
    const code = b[p];
    const id = b[p + 1];
    const clen = (b[p + 2] << 8) | b[p + 3];
    if (clen < 4 || clen > len) return;
    if (proto === Proto.LCP) this.lcp(slot, code, id, p, clen);
    else if (proto === Proto.PAP) this.pap(slot, code, id, p, clen);
    else if (proto === Proto.CHAP) this.chap(slot, code, id, p, clen);
    else if (proto === Proto.IPCP) this.ipcp(slot, code, id, p, clen);
    else if (proto === Proto.IPV6CP && this.w.ipv6cp) this.ipv6cp(slot, code, id, p, clen);
    else if (this.phase[slot] >= AUTH) this.protocolReject(slot, proto, pay, plen);
  }

  private lcp(slot: number, code: number, id: number, p: number, clen: number): void {
    const b = this.rx;
    const ph = this.phase[slot];
    switch (code) {
      case 1: { // Configure-Request
        if (ph !== LCP) {
          if (ph !== AUTH) {
            // after authentication was submitted: this concentrator does not restart an authenticated link; it ends it
            this.terminate(slot, TermCause.LOST_CARRIER, true);
            return;
          }
          // RFC 1661, Opened + RCR: the peer restarted the link before authenticating (a copy of our request
          // or a lost Ack made it renegotiate): negotiate again from Req-Sent instead of ending the session
          this.restartLcp(slot);
        }
        const verdict = this.checkLcpOptions(slot, p + 4, p + clen);
        if (verdict < 0) return;
        // pppd binds its channel only after PADS, so it may have missed our request: resend it once when its
        // first request shows up, and BEFORE our answer. A peer that already acked an earlier copy then gets the
        // copy while in Ack-Sent (it acks again) and only then our Ack (Opened). Sent after the Ack, the copy
        // reached an Opened peer, which renegotiates (RFC 1661 Opened + RCR), and the session was lost.
        if (!(this.lcpFlags[slot] & (OUR_ACKED | RESENT_ON_PEER))) {
          this.lcpFlags[slot] |= RESENT_ON_PEER;
          this.sendLcpRequest(slot);
        }
        this.replyOptions(slot, Proto.LCP, verdict, id, p, clen, this.lcpOptFilter);
        if (verdict === 2) {
          this.lcpFlags[slot] |= PEER_ACKED;
          this.lcpMaybeUp(slot);
        } else {
          this.lcpFlags[slot] &= ~PEER_ACKED; // Ack-Sent + RCR- → Req-Sent
        }
        return;
      }
      case 2: // Configure-Ack
        if (ph === LCP && id === this.lcpId[slot]) {
          this.lcpFlags[slot] |= OUR_ACKED;
          this.lcpMaybeUp(slot);
        }
        return;
      case 3: // Configure-Nak
      case 4: // Configure-Reject
        if (ph === LCP && id === this.lcpId[slot]) this.lcpNakRej(slot, code, p + 4, p + clen);
        return;
      case 5: // Terminate-Request
        this.sendPpp(slot, Proto.LCP, 6, id, null, 0, 0);
        this.terminate(slot, TermCause.USER_REQUEST, false, true);
        return;
      case 9: // Echo-Request
        if (ph >= AUTH) this.sendEcho(slot, 10, id, p + 8, clen - 8);
        return;
      case 10: // Echo-Reply
        this.echoMiss[slot] = 0;
        return;
      case 8: { // Protocol-Reject
        const rp = clen >= 6 ? (b[p + 4] << 8) | b[p + 5] : 0;
        if (rp === Proto.IPCP) this.terminate(slot, TermCause.SERVICE_UNAVAILABLE, true);
        return;
      }
      case 6: case 7: case 11: case 12: case 13:
        return;
      default: { // Code-Reject (the whole packet as data)
        this.sendPpp(slot, Proto.LCP, 7, this.seq++ & 255, b, p, Math.min(clen, this.peerMru[slot] - 4));
      }
    }
  }

  /** Option verdict of the peer's request: 2 = ack, 3 = nak, 4 = reject, -1 = malformed. */
  private checkLcpOptions(slot: number, p: number, end: number): number {
    const b = this.rx;
    let verdict = 2;
    for (let q = p; q < end;) {
      const t = b[q];
      const l = b[q + 1];
      if (l < 2 || q + l > end) return -1;
      if (t === 1 && l === 4) {
        const mru = (b[q + 2] << 8) | b[q + 3];
        if (mru > this.w.mru || mru < 64) { if (verdict === 2) verdict = 3; }
        else this.peerMru[slot] = mru;
      } else if (t === 5 && l === 6) {
        const m = ((b[q + 2] << 24) | (b[q + 3] << 16) | (b[q + 4] << 8) | b[q + 5]) >>> 0;
        if (m === 0 || m === this.ourMagic[slot]) { if (verdict === 2) verdict = 3; }
      } else {
        verdict = 4; // ACCM, ACFC, PFC, authentication asked of us, anything else
      }
      q += l;
    }
    return verdict;
  }

  /** Which options go into a Nak (3) or Reject (4), and with what value (writes the option, returns its length; 0 = leave out). */
  private readonly lcpOptFilter = (slot: number, verdict: number, q: number, out: number): number => {
    const b = this.rx;
    const t = b[q];
    const l = b[q + 1];
    const tx = this.tx;
    if (verdict === 4) {
      if ((t === 1 && l === 4) || (t === 5 && l === 6)) return 0;
      copyRange(tx, out, b, q, q + l);
      return l;
    }
    if (t === 1) {
      const mru = (b[q + 2] << 8) | b[q + 3];
      if (mru <= this.w.mru && mru >= 64) return 0;
      tx[out] = 1; tx[out + 1] = 4; tx[out + 2] = this.w.mru >> 8; tx[out + 3] = this.w.mru & 255;
      return 4;
    }
    if (t === 5) {
      const m = ((b[q + 2] << 24) | (b[q + 3] << 16) | (b[q + 4] << 8) | b[q + 5]) >>> 0;
      if (m !== 0 && m !== this.ourMagic[slot]) return 0;
      const v = (Math.random() * 0xfffffffe + 1) >>> 0;
      tx[out] = 5; tx[out + 1] = 6; tx[out + 2] = v >>> 24; tx[out + 3] = (v >>> 16) & 255; tx[out + 4] = (v >>> 8) & 255; tx[out + 5] = v & 255;
      return 6;
    }
    return 0;
  };

  private lcpNakRej(slot: number, code: number, p: number, end: number): void {
    const b = this.rx;
    for (let q = p; q < end;) {
      const t = b[q];
      const l = b[q + 1];
      if (l < 2 || q + l > end) return;
      if (t === 3) {
        if (code === 4) { // authentication rejected: we require it
          this.terminate(slot, TermCause.USER_ERROR, true);
          return;
        }
        const proto = l >= 4 ? (b[q + 2] << 8) | b[q + 3] : 0;
        if (proto === Proto.PAP && this.w.allowPap) this.authProto[slot] = Proto.PAP;
        else if (proto === Proto.CHAP && this.w.allowChap && l >= 5 && b[q + 4] === 5) this.authProto[slot] = Proto.CHAP;
        else if (proto === Proto.CHAP && this.w.allowChap && this.authProto[slot] !== Proto.CHAP) this.authProto[slot] = Proto.CHAP;
        else if (this.authProto[slot] === Proto.CHAP && this.w.allowPap) this.authProto[slot] = Proto.PAP;
        else {
          this.terminate(slot, TermCause.USER_ERROR, true);
          return;
        }
      } else if (t === 1) {
        if (code === 4) this.lcpFlags[slot] |= NO_MRU;
      } else if (t === 5) {
        if (code === 4) this.lcpFlags[slot] |= NO_MAGIC;
        else this.ourMagic[slot] = (Math.random() * 0xfffffffe + 1) >>> 0;
      }
      q += l;
    }
    this.lcpId[slot] = this.seq++ & 255;
    this.sendLcpRequest(slot);
  }

  /** Back to Req-Sent after the link was opened (renegotiation before authentication): a new request id. */
  private restartLcp(slot: number): void {
    this.phase[slot] = LCP;
    this.lcpFlags[slot] &= NO_MRU | NO_MAGIC;
    this.lcpId[slot] = this.seq++ & 255;
    this.lcpCount[slot] = 0;
    this.authCount[slot] = 0;
  }

  private lcpMaybeUp(slot: number): void {
    if ((this.lcpFlags[slot] & (OUR_ACKED | PEER_ACKED)) !== (OUR_ACKED | PEER_ACKED)) return;
    this.lc.count(C.wire_lcp_up);
    this.phase[slot] = AUTH;
    this.echoDue[slot] = this.clock + this.w.echoIntervalMs;
    if (this.w.echoIntervalMs > 0) this.arm(slot, this.echoDue[slot]);
    this.authCount[slot] = 0;
    if (this.authProto[slot] === Proto.CHAP) this.sendChallenge(slot, true);
    else {
      this.authDue[slot] = this.clock + this.w.authTimeoutMs;
      this.arm(slot, this.authDue[slot]);
    }
  }

  private pap(slot: number, code: number, id: number, p: number, clen: number): void {
    if (code !== 1 || this.authProto[slot] !== Proto.PAP) return;
    const ph = this.phase[slot];
    if (ph === AUTH_WAIT) {
      this.authId[slot] = id; // a retransmission: answer the latest id
      return;
    }
    if (ph >= NETWORK) {
      this.authReply(slot, true, EMPTY_MSG, 0, 0, id);
      return;
    }
    if (ph !== AUTH) return;
    const b = this.rx;
    const ul = b[p + 4];
    if (5 + ul >= clen) return;
    const pl = b[p + 5 + ul];
    if (6 + ul + pl > clen) return;
    this.authId[slot] = id;
    this.keepUser(slot, p + 5, ul);
    const rc = this.lc.submitPap(this.base + slot, b, p + 5, ul, b, p + 6 + ul, pl);
    this.submitted(slot, rc);
  }

  private chap(slot: number, code: number, id: number, p: number, clen: number): void {
    if (code !== 2 || this.authProto[slot] !== Proto.CHAP) return;
    const ph = this.phase[slot];
    if (id !== this.authId[slot]) return;
    if (ph >= NETWORK) {
      this.authReply(slot, true, EMPTY_MSG, 0, 0);
      return;
    }
    if (ph !== AUTH) return;
    const b = this.rx;
    const vs = b[p + 4];
    if (vs !== 16 || 5 + vs > clen) return;
    const name = p + 5 + vs;
    const nameLen = clen - 5 - vs;
    this.keepUser(slot, name, nameLen);
    const rc = this.lc.submitChap(this.base + slot, b, name, nameLen, id, this.challenge, slot * 16, 16, b, p + 5);
    this.submitted(slot, rc);
  }

  private keepUser(slot: number, at: number, len: number): void {
    if (len > REQ.USER_MAX) len = REQ.USER_MAX;
    this.userLen[slot] = len;
    if (len > USER_INLINE) {
      this.userLong.set(slot, this.rx.slice(at, at + len));
      return;
    }
    this.userLong.delete(slot);
    const o = slot * USER_INLINE;
    for (let i = 0; i < len; i++) this.user[o + i] = this.rx[at + i];
  }

  private submitted(slot: number, rc: number): void {
    if (rc === 0) {
      this.phase[slot] = AUTH_WAIT;
      return;
    }
    // refused at once (ring full, caps, control plane stalled, draining): a clean failure, not a queue
    this.authReply(slot, false, BUSY, 0, BUSY.length);
    this.terminate(slot, TermCause.NAS_ERROR, true);
  }

  /**
   * CHAP Challenge. `fresh`: a new identifier and value; otherwise a retransmission of the same ones, so that a
   * response to an earlier copy that crossed the retransmission is still valid (a slow peer answering each copy
   * just after the next one went out never matched a fresh identifier, and the session ran out of tries).
   */
  private sendChallenge(slot: number, fresh: boolean): void {
    if (fresh) {
      this.authId[slot] = this.seq++ & 255;
      randomFillSync(this.challenge, slot * 16, 16);
    }
    const id = this.authId[slot];
    const f = this.pppFrame(slot, Proto.CHAP);
    if (f < 0) return;
    const tx = this.tx;
    const n = this.acName;
    const clen = 4 + 1 + 16 + n.length;
    tx[f] = 1; tx[f + 1] = id; tx[f + 2] = clen >> 8; tx[f + 3] = clen & 255;
    tx[f + 4] = 16;
    copyRange(tx, f + 5, this.challenge, slot * 16, slot * 16 + 16);
    tx.set(n, f + 21);
    this.endPpp(f, clen);
    this.authDue[slot] = this.clock + this.w.restartMs;
    this.arm(slot, this.authDue[slot]);
    this.authCount[slot]++;
  }

  /** PAP Ack/Nak or CHAP Success/Failure with a message. */
  private authReply(slot: number, ok: boolean, msg: Uint8Array, msgOff: number, msgLen: number, papId = -1): void {
    const f = this.pppFrame(slot, this.authProto[slot]);
    if (f < 0) return;
    const tx = this.tx;
    let clen: number;
    if (this.authProto[slot] === Proto.PAP) {
      if (msgLen > 255) msgLen = 255;
      tx[f] = ok ? 2 : 3;
      tx[f + 1] = papId >= 0 ? papId : this.authId[slot];
      tx[f + 4] = msgLen;
      copyRange(tx, f + 5, msg, msgOff, msgOff + msgLen);
      clen = 5 + msgLen;
    } else {
      tx[f] = ok ? 3 : 4;
      tx[f + 1] = this.authId[slot];
      copyRange(tx, f + 4, msg, msgOff, msgOff + msgLen);
      clen = 4 + msgLen;
    }
    tx[f + 2] = clen >> 8;
    tx[f + 3] = clen & 255;
    this.endPpp(f, clen);
  }

  private ipcp(slot: number, code: number, id: number, p: number, clen: number): void {
    const ph = this.phase[slot];
    if (ph < NETWORK) return;
    switch (code) {
      case 1: {
        const verdict = this.checkIpcpOptions(slot, p + 4, p + clen);
        if (verdict < 0) return;
        this.replyOptions(slot, Proto.IPCP, verdict, id, p, clen, this.ipcpOptFilter);
        if (verdict === 2) {
          this.ipcpFlags[slot] |= PEER_ACKED;
          this.ipcpMaybeUp(slot);
        }
        return;
      }
      case 2:
        if (id === this.ipcpId[slot]) {
          this.ipcpFlags[slot] |= OUR_ACKED;
          this.ipcpMaybeUp(slot);
        }
        return;
      case 3: case 4:
        // our request carries only our own address; a peer that will not take it cannot be served
        if (id === this.ipcpId[slot]) this.terminate(slot, TermCause.SERVICE_UNAVAILABLE, true);
        return;
      case 5:
        this.sendPpp(slot, Proto.IPCP, 6, id, null, 0, 0);
        this.terminate(slot, TermCause.USER_REQUEST, true);
        return;
      default:
    }
  }

  // ---- IPV6CP (RFC 5072): interface identifiers only ----

  private ipv6cp(slot: number, code: number, id: number, p: number, clen: number): void {
    if (this.phase[slot] < NETWORK) return;
    const b = this.rx;
    const end = p + clen;
    switch (code) {
      case 1: { // Configure-Request: Interface-Identifier acked unless zero or ours (Nak with a fresh one); the rest rejected
        let verdict = 2;
        for (let q = p + 4; q < end;) {
          const l = b[q + 1];
          if (l < 2 || q + l > end) return;
          if (b[q] === 1 && l === 10) {
            if (verdict === 2 && (isZero(b, q + 2, 8) || sameBytes(b, q + 2, this.v6Ours, slot * 8, 8))) verdict = 3;
          } else {
            verdict = 4;
          }
          q += l;
        }
        const f = this.pppFrame(slot, Proto.IPV6CP);
        if (f < 0) return;
        const tx = this.tx;
        let n = 4;
        if (verdict === 2) {
          copyRange(tx, f + 4, b, p + 4, end);
          n = clen;
          for (let q = p + 4; q < end; q += b[q + 1]) if (b[q] === 1) for (let i = 0; i < 8; i++) this.v6Peer[slot * 8 + i] = b[q + 2 + i];
        } else {
          for (let q = p + 4; q < end; q += b[q + 1]) {
            const known = b[q] === 1 && b[q + 1] === 10;
            if (verdict === 4 && !known) { copyRange(tx, f + n, b, q, q + b[q + 1]); n += b[q + 1]; }
            if (verdict === 3 && known) {
              tx[f + n] = 1; tx[f + n + 1] = 10;
              do randomIfid(tx, f + n + 2); while (sameBytes(tx, f + n + 2, this.v6Ours, slot * 8, 8));
              n += 10;
            }
          }
        }
        tx[f] = verdict; tx[f + 1] = id; tx[f + 2] = n >> 8; tx[f + 3] = n & 255;
        this.endPpp(f, n);
        if (verdict === 2) {
          this.v6Flags[slot] |= PEER_ACKED;
          this.v6MaybeUp(slot);
        } else {
          this.v6Flags[slot] &= ~PEER_ACKED;
        }
        return;
      }
      case 2:
        if (id === this.v6Id[slot]) {
          this.v6Flags[slot] |= OUR_ACKED;
          this.v6MaybeUp(slot);
        }
        return;
      case 3: // Nak: take the identifier the peer suggests (when it is usable), new request
        if (id !== this.v6Id[slot]) return;
        for (let q = p + 4; q + 10 <= end; q += Math.max(2, b[q + 1])) {
          if (b[q] === 1 && b[q + 1] === 10 && !isZero(b, q + 2, 8) && !sameBytes(b, q + 2, this.v6Peer, slot * 8, 8)) {
            for (let i = 0; i < 8; i++) this.v6Ours[slot * 8 + i] = b[q + 2 + i];
          }
        }
        this.sendV6Request(slot, true);
        return;
      case 4: // Reject of our identifier: IPV6CP cannot work with this peer; leave it closed
        if (id === this.v6Id[slot]) this.v6Flags[slot] |= V6_CLOSED;
        return;
      case 5:
        this.sendPpp(slot, Proto.IPV6CP, 6, id, null, 0, 0);
        this.v6Flags[slot] = V6_CLOSED;
        return;
      default:
    }
  }

  private v6MaybeUp(slot: number): void {
    if ((this.v6Flags[slot] & (OUR_ACKED | PEER_ACKED | V6_UP)) !== (OUR_ACKED | PEER_ACKED)) return;
    this.v6Flags[slot] |= V6_UP;
    this.lc.count(C.wire_ipv6cp_up);
  }

  /** Our IPV6CP Configure-Request: Interface-Identifier (a retransmission keeps the identifier of the packet). */
  private sendV6Request(slot: number, fresh: boolean): void {
    const f = this.pppFrame(slot, Proto.IPV6CP);
    if (f < 0) return;
    if (fresh) this.v6Id[slot] = this.seq++ & 255;
    const tx = this.tx;
    tx[f] = 1; tx[f + 1] = this.v6Id[slot]; tx[f + 2] = 0; tx[f + 3] = 14;
    tx[f + 4] = 1; tx[f + 5] = 10;
    copyRange(tx, f + 6, this.v6Ours, slot * 8, slot * 8 + 8);
    this.endPpp(f, 14);
    this.v6Due[slot] = this.clock + this.w.restartMs;
    this.arm(slot, this.v6Due[slot]);
    this.v6Count[slot]++;
  }

  private checkIpcpOptions(slot: number, p: number, end: number): number {
    const b = this.rx;
    let verdict = 2;
    for (let q = p; q < end;) {
      const t = b[q];
      const l = b[q + 1];
      if (l < 2 || q + l > end) return -1;
      if ((t === 3 || t === 0x81 || t === 0x83) && l === 6) {
        const want = t === 3 ? this.ip[slot] : t === 0x81 ? this.dns1[slot] : this.dns2[slot];
        if (want === 0) verdict = 4;
        else if (readU32(b, q + 2) !== want && verdict === 2) verdict = 3;
      } else {
        verdict = 4; // IP-Addresses, VJ compression, NBNS, unknown
      }
      q += l;
    }
    return verdict;
  }

  private readonly ipcpOptFilter = (slot: number, verdict: number, q: number, out: number): number => {
    const b = this.rx;
    const t = b[q];
    const l = b[q + 1];
    const tx = this.tx;
    const known = (t === 3 || t === 0x81 || t === 0x83) && l === 6;
    const want = !known ? 0 : t === 3 ? this.ip[slot] : t === 0x81 ? this.dns1[slot] : this.dns2[slot];
    if (verdict === 4) {
      if (known && want !== 0) return 0;
      copyRange(tx, out, b, q, q + l);
      return l;
    }
    if (readU32(b, q + 2) === want) return 0;
    tx[out] = t; tx[out + 1] = 6;
    writeU32(tx, out + 2, want);
    return 6;
  };

  private ipcpMaybeUp(slot: number): void {
    if (this.phase[slot] !== NETWORK || (this.ipcpFlags[slot] & (OUR_ACKED | PEER_ACKED)) !== (OUR_ACKED | PEER_ACKED)) return;
    this.phase[slot] = UP;
    this.insertIp(slot);
    this.lc.count(C.wire_ipcp_up);
    this.startAt[slot] = this.clock;
    this.lastData[slot] = this.clock;
    if (this.interimMs[slot] > 0) this.interimDue[slot] = this.clock + this.interimMs[slot];
    this.rearm(slot); // Idle-Timeout and Interim-Update from now on
    this.accounting(slot, AcctStatus.START, 0);
  }

  /** Nak or Reject built from the request's options through `filter`; Ack = the request echoed. */
  private replyOptions(slot: number, proto: number, verdict: number, id: number, p: number, clen: number,
    filter: (slot: number, verdict: number, q: number, out: number) => number): void {
    const f = this.pppFrame(slot, proto);
    if (f < 0) return;
    const tx = this.tx;
    const b = this.rx;
    let n = 4;
    if (verdict === 2) {
      copyRange(tx, f + 4, b, p + 4, p + clen);
      n = clen;
    } else {
      for (let q = p + 4; q < p + clen; q += b[q + 1]) n += filter(slot, verdict, q, f + n);
    }
    tx[f] = verdict;
    tx[f + 1] = id;
    tx[f + 2] = n >> 8;
    tx[f + 3] = n & 255;
    this.endPpp(f, n);
  }

  private sendLcpRequest(slot: number): void {
    const f = this.pppFrame(slot, Proto.LCP);
    if (f < 0) return;
    const tx = this.tx;
    let n = 4;
    if (!(this.lcpFlags[slot] & NO_MRU)) {
      tx[f + n] = 1; tx[f + n + 1] = 4; tx[f + n + 2] = this.w.mru >> 8; tx[f + n + 3] = this.w.mru & 255;
      n += 4;
    }
    if (this.authProto[slot] === Proto.CHAP) {
      tx[f + n] = 3; tx[f + n + 1] = 5; tx[f + n + 2] = 0xc2; tx[f + n + 3] = 0x23; tx[f + n + 4] = 5;
      n += 5;
    } else {
      tx[f + n] = 3; tx[f + n + 1] = 4; tx[f + n + 2] = 0xc0; tx[f + n + 3] = 0x23;
      n += 4;
    }
    if (!(this.lcpFlags[slot] & NO_MAGIC)) {
      tx[f + n] = 5; tx[f + n + 1] = 6;
      writeU32(tx, f + n + 2, this.ourMagic[slot]);
      n += 6;
    }
    tx[f] = 1; tx[f + 1] = this.lcpId[slot]; tx[f + 2] = n >> 8; tx[f + 3] = n & 255;
    this.endPpp(f, n);
    this.lcpDue[slot] = this.clock + this.w.restartMs;
    this.arm(slot, this.lcpDue[slot]);
    this.lcpCount[slot]++;
  }

  /**
   * Our IPCP Configure-Request. A retransmission keeps the identifier (RFC 1661 §5.1 allows it; the options are
   * unchanged), so a peer's late Ack of an earlier copy still opens IPCP instead of being dropped as stale.
   */
  private sendIpcpRequest(slot: number, fresh: boolean): void {
    const f = this.pppFrame(slot, Proto.IPCP);
    if (f < 0) return;
    if (fresh) this.ipcpId[slot] = this.seq++ & 255;
    const id = this.ipcpId[slot];
    const tx = this.tx;
    tx[f] = 1; tx[f + 1] = id; tx[f + 2] = 0; tx[f + 3] = 10;
    tx[f + 4] = 3; tx[f + 5] = 6;
    writeU32(tx, f + 6, this.w.localAddress);
    this.endPpp(f, 10);
    this.ipcpDue[slot] = this.clock + this.w.restartMs;
    this.arm(slot, this.ipcpDue[slot]);
    this.ipcpCount[slot]++;
  }

  private sendEcho(slot: number, code: number, id: number, dataOff: number, dataLen: number): void {
    const f = this.pppFrame(slot, Proto.LCP);
    if (f < 0) return;
    const tx = this.tx;
    if (dataLen < 0) dataLen = 0;
    const max = this.peerMru[slot] - 8;
    if (dataLen > max) dataLen = max;
    const n = 8 + dataLen;
    tx[f] = code; tx[f + 1] = id; tx[f + 2] = n >> 8; tx[f + 3] = n & 255;
    writeU32(tx, f + 4, this.lcpFlags[slot] & NO_MAGIC ? 0 : this.ourMagic[slot]);
    if (dataLen > 0) copyRange(tx, f + 8, this.rx, dataOff, dataOff + dataLen);
    this.endPpp(f, n);
  }

  private sendPpp(slot: number, proto: number, code: number, id: number, data: Uint8Array | null, off: number, len: number): void {
    const f = this.pppFrame(slot, proto);
    if (f < 0) return;
    const tx = this.tx;
    const n = 4 + len;
    tx[f] = code; tx[f + 1] = id; tx[f + 2] = n >> 8; tx[f + 3] = n & 255;
    if (data && len > 0) copyRange(tx, f + 4, data, off, off + len);
    this.endPpp(f, n);
  }

  private protocolReject(slot: number, proto: number, pay: number, plen: number): void {
    const f = this.pppFrame(slot, Proto.LCP);
    if (f < 0) return;
    const tx = this.tx;
    const keep = Math.min(plen, this.peerMru[slot] - 4);
    const n = 4 + keep;
    tx[f] = 8; tx[f + 1] = this.seq++ & 255; tx[f + 2] = n >> 8; tx[f + 3] = n & 255;
    copyRange(tx, f + 4, this.rx, pay, pay + keep); // the rejected protocol number, then its packet
    this.endPpp(f, n);
    this.lc.count(C.wire_protocol_rejects);
  }

  // ---- IPv4 terminated here ----

  private ipv4(slot: number, p: number, len: number): void {
    if (this.phase[slot] !== UP) return;
    const b = this.rx;
    const tr = slot * 4;
    this.traffic[tr] += len;
    this.traffic[tr + 2]++;
    this.lastData[slot] = this.clock;
    if (len < 20 || (b[p] >> 4) !== 4) return;
    if (readU32(b, p + 12) !== this.ip[slot]) {
      this.lc.count(C.wire_spoofed);
      return;
    }
    if (!this.take(slot, len, true)) return;
    const ihl = (b[p] & 15) * 4;
    const total = (b[p + 2] << 8) | b[p + 3];
    if (b[p + 9] === 1 && readU32(b, p + 16) === this.w.localAddress && total <= len && total >= ihl + 8 && b[p + ihl] === 8) {
      this.echoReply(slot, p, total, ihl);
      return;
    }
    if (!this.uplink) {
      this.lc.count(C.wire_ipv4_dropped); // no uplink configured: counted and dropped
      return;
    }
    this.forwardUp(p, len, total, ihl);
  }

  // ---- the uplink: IPv4 forwarding and ARP ----

  /** A session's packet out of the uplink to the next hop: TTL decremented, header checksum recomputed. */
  private forwardUp(p: number, len: number, total: number, ihl: number): void {
    const b = this.rx;
    if (total > len || total < ihl || ihl < 20 || total > TX_SLOT - 14 || b[p + 8] <= 1) {
      this.lc.count(C.wire_ipv4_dropped);
      return;
    }
    if (!this.gwKnown) {
      this.lc.count(C.wire_fwd_no_gateway);
      if (this.clock >= this.arpDue) this.arp(1, this.w.uplink!.gateway, BCAST_MAC, 0);
      return;
    }
    if (this.utxCount === BATCH) this.flush();
    const o = this.utxOff[this.utxCount];
    const tx = this.utx;
    tx.set(this.gwMac, o);
    tx.set(this.uplink!.mac, o + 6);
    tx[o + 12] = 0x08; tx[o + 13] = 0x00;
    const q = o + 14;
    tx.set(b.subarray(p, p + total), q); // whole packets: one native copy
    tx[q + 8]--;
    ipChecksum(tx, q, ihl);
    let n = 14 + total;
    if (n < 60) { tx.fill(0, o + n, o + 60); n = 60; }
    this.utxLen[this.utxCount++] = n;
    this.lc.count(C.wire_fwd_up);
  }

  /** A frame from the uplink: ARP (our address, our sessions' addresses, the next hop's answer) or IPv4 to a session. */
  private uplinkFrame(off: number, len: number): void {
    const b = this.urx;
    if (len < 42) return;
    const own = this.uplink!.mac;
    const bcast = (b[off] & 1) === 1;
    if (!bcast && !(b[off] === own[0] && b[off + 1] === own[1] && b[off + 2] === own[2] && b[off + 3] === own[3] && b[off + 4] === own[4] && b[off + 5] === own[5])) return;
    const type = (b[off + 12] << 8) | b[off + 13];
    const u = this.w.uplink!;
    if (type === 0x0806) {
      const a = off + 14;
      if (b[a] !== 0 || b[a + 1] !== 1 || b[a + 2] !== 8 || b[a + 3] !== 0 || b[a + 4] !== 6 || b[a + 5] !== 4) return;
      const op = b[a + 7];
      const sender = readU32(b, a + 14);
      const target = readU32(b, a + 24);
      if (sender === u.gateway) {
        for (let i = 0; i < 6; i++) this.gwMac[i] = b[a + 8 + i];
        this.gwKnown = true;
      }
      // who answers: lcore 0 for our own address, the owning lcore for a session's address (proxy ARP)
      if (op === 1 && ((target === u.address && this.lcoreId === 0) || this.findIp(target) >= 0)) this.arp(2, sender, b, a + 8, target);
      return;
    }
    if (type !== 0x0800 || bcast) return;
    const p = off + 14;
    if ((b[p] >> 4) !== 4) return;
    const slot = this.findIp(readU32(b, p + 16));
    if (slot < 0 || this.phase[slot] !== UP) return; // another lcore's session, or none
    const ihl = (b[p] & 15) * 4;
    const total = (b[p + 2] << 8) | b[p + 3];
    if (ihl < 20 || total < ihl || p + total > off + len || b[p + 8] <= 1 || total > this.peerMru[slot]) {
      this.lc.count(C.wire_ipv4_dropped);
      return;
    }
    if (!this.take(slot, total, false)) return;
    const f = this.pppFrame(slot, Proto.IPV4);
    if (f < 0) return;
    const tx = this.tx;
    tx.set(b.subarray(p, p + total), f);
    tx[f + 8]--;
    ipChecksum(tx, f, ihl);
    this.endPpp(f, total);
    const tr = slot * 4;
    this.traffic[tr + 1] += total;
    this.traffic[tr + 3]++;
    this.lc.count(C.wire_fwd_down);
  }

  /** ARP request (op 1, to `dstBuf[dstOff…]` = broadcast) or reply (op 2) on the uplink; `from` = the address we speak for. */
  private arp(op: number, targetIp: number, dstBuf: Uint8Array, dstOff: number, from = this.w.uplink!.address): void {
    if (this.utxCount === BATCH) this.flush();
    if (op === 1) this.arpDue = this.clock + 1000;
    const o = this.utxOff[this.utxCount];
    const tx = this.utx;
    const mac = this.uplink!.mac;
    for (let i = 0; i < 6; i++) tx[o + i] = dstBuf[dstOff + i];
    tx.set(mac, o + 6);
    tx[o + 12] = 0x08; tx[o + 13] = 0x06;
    const a = o + 14;
    tx[a] = 0; tx[a + 1] = 1; tx[a + 2] = 8; tx[a + 3] = 0; tx[a + 4] = 6; tx[a + 5] = 4; tx[a + 6] = 0; tx[a + 7] = op;
    tx.set(mac, a + 8);
    writeU32(tx, a + 14, from);
    for (let i = 0; i < 6; i++) tx[a + 18 + i] = op === 1 ? 0 : dstBuf[dstOff + i];
    writeU32(tx, a + 24, targetIp);
    tx.fill(0, a + 28, o + 60);
    this.utxLen[this.utxCount++] = 60;
    if (op === 2) this.lc.count(C.wire_arp_replies);
  }

  /** Token bucket of one direction; false (and counted) when the packet is over the session's rate. */
  private take(slot: number, bytes: number, up: boolean): boolean {
    const rate = up ? this.rateUp[slot] : this.rateDown[slot];
    if (rate === 0) return true;
    const t = this.clock;
    const burst = Math.max(3000, rate / 5); // 200 ms worth
    const dt = (t - this.tokAt[slot]) / 1000;
    this.tokAt[slot] = t;
    const tokens = Math.min(burst, (up ? this.tokUp[slot] : this.tokDown[slot]) + dt * rate);
    // both buckets refill from one timestamp: refill the other one too
    if (up) this.tokDown[slot] = Math.min(Math.max(3000, this.rateDown[slot] / 5), this.tokDown[slot] + dt * this.rateDown[slot]);
    else this.tokUp[slot] = Math.min(Math.max(3000, this.rateUp[slot] / 5), this.tokUp[slot] + dt * this.rateUp[slot]);
    if (tokens < bytes) {
      if (up) this.tokUp[slot] = tokens; else this.tokDown[slot] = tokens;
      this.lc.count(C.wire_rate_drops);
      return false;
    }
    if (up) this.tokUp[slot] = tokens - bytes; else this.tokDown[slot] = tokens - bytes;
    return true;
  }

  private setRates(slot: number, upBits: number, downBits: number): void {
    this.rateUp[slot] = upBits / 8;
    this.rateDown[slot] = downBits / 8;
    this.tokUp[slot] = Math.max(3000, this.rateUp[slot] / 5);
    this.tokDown[slot] = Math.max(3000, this.rateDown[slot] / 5);
    this.tokAt[slot] = this.clock;
  }

  private echoReply(slot: number, p: number, total: number, ihl: number): void {
    if (!this.take(slot, total, false)) return;
    const f = this.pppFrame(slot, Proto.IPV4);
    if (f < 0 || total > this.peerMru[slot] - 2 || f + total > this.txOff[this.txCount] + TX_SLOT) return;
    const tx = this.tx;
    tx.set(this.rx.subarray(p, p + total), f);
    // swap the addresses (the header checksum is unchanged), type 8 → 0 (checksum + 0x0800)
    for (let i = 0; i < 4; i++) {
      const a = tx[f + 12 + i];
      tx[f + 12 + i] = tx[f + 16 + i];
      tx[f + 16 + i] = a;
    }
    tx[f + ihl] = 0;
    let sum = ((tx[f + ihl + 2] << 8) | tx[f + ihl + 3]) + 0x0800;
    sum = (sum & 0xffff) + (sum >> 16);
    tx[f + ihl + 2] = sum >> 8;
    tx[f + ihl + 3] = sum & 255;
    this.endPpp(f, total);
    const tr = slot * 4;
    this.traffic[tr + 1] += total;
    this.traffic[tr + 3]++;
    this.lc.count(C.wire_icmp_replies);
  }

  // ---- timers ----

  /** The wheel's buckets from the last tick to now: every slot whose wake-up time has come runs its timers. */
  private tick(t: number): number {
    let work = 0;
    const now = Math.floor(t / TICK_MS);
    let tk = this.wheelTick < 0 ? now : this.wheelTick + 1;
    if (now - tk >= WHEEL) tk = now - WHEEL + 1;
    for (; tk <= now; tk++) {
      this.wheelTick = tk;
      let s = this.wHead[tk & (WHEEL - 1)];
      while (s >= 0) {
        const next = this.wNext[s];
        if (this.wake[s] <= t) {
          this.unarm(s);
          work += this.timers(s, t);
          this.rearm(s);
        }
        s = next;
      }
    }
    return work;
  }

  /** The timers of one slot that are due at `t`. */
  private timers(s: number, t: number): number {
    let work = 0;
    const w = this.w;
    const ph = this.phase[s];
    if (ph === FREE) return work;
    if (ph === LCP) {
      if (!(this.lcpFlags[s] & OUR_ACKED) && this.lcpDue[s] <= t) {
        if (this.lcpCount[s] >= w.maxConfigure) this.terminate(s, TermCause.LOST_CARRIER, true);
        else this.sendLcpRequest(s);
        work++;
      }
      return work;
    }
    if (ph === AUTH && this.authDue[s] <= t) {
      if (this.authProto[s] === Proto.CHAP && this.authCount[s] < w.maxConfigure) this.sendChallenge(s, false);
      else this.terminate(s, TermCause.USER_ERROR, true);
      work++;
      return work;
    }
    if (w.ipv6cp && ph >= NETWORK && this.v6Count[s] > 0 && !(this.v6Flags[s] & (OUR_ACKED | V6_CLOSED)) && this.v6Due[s] <= t) {
      // IPV6CP is optional: after Max-Configure it is given up, the session stays
      if (this.v6Count[s] >= w.maxConfigure) this.v6Flags[s] |= V6_CLOSED;
      else this.sendV6Request(s, false);
      work++;
    }
    if (ph === NETWORK && !(this.ipcpFlags[s] & OUR_ACKED) && this.ipcpDue[s] <= t) {
      if (this.ipcpCount[s] >= w.maxConfigure) this.terminate(s, TermCause.SERVICE_UNAVAILABLE, true);
      else this.sendIpcpRequest(s, false);
      work++;
      return work;
    }
    if (ph >= AUTH && w.echoIntervalMs > 0 && this.echoDue[s] <= t) {
      if (this.echoMiss[s] >= w.echoFailures) {
        this.lc.count(C.wire_echo_timeouts);
        this.terminate(s, TermCause.LOST_CARRIER, true);
        work++;
        return work;
      }
      this.echoMiss[s]++;
      this.echoDue[s] = t + w.echoIntervalMs;
      this.sendEcho(s, 9, this.seq++ & 255, 0, 0);
      work++;
    }
    if (ph === UP) {
      if (this.idleMs[s] > 0 && t - this.lastData[s] >= this.idleMs[s]) {
        this.lc.count(C.wire_idle_timeouts);
        this.terminate(s, TermCause.IDLE_TIMEOUT, true);
        work++;
        return work;
      }
      if (this.interimMs[s] > 0 && this.interimDue[s] <= t) {
        this.interimDue[s] = t + this.interimMs[s];
        this.accounting(s, AcctStatus.INTERIM, 0);
        work++;
      }
    }
    return work;
  }

  // ---- teardown and accounting ----

  /**
   * Ends a session: Stop (when accounting started), LCP Terminate-Request and PADT when `tell`, the lcore's
   * session closed, the slot freed. `acked`: the peer asked (its Terminate-Request was acknowledged).
   */
  private terminate(slot: number, cause: number, tell: boolean, acked = false): void {
    if (this.phase[slot] === FREE) return;
    if (this.phase[slot] === UP) {
      this.accounting(slot, AcctStatus.STOP, cause);
      this.deleteIp(slot);
    }
    if (tell && !acked && this.phase[slot] >= AUTH) this.sendPpp(slot, Proto.LCP, 5, this.seq++ & 255, null, 0, 0);
    if (tell || acked) this.sendPadt(slot);
    this.deleteMac(slot);
    this.unarm(slot);
    this.phase[slot] = FREE;
    if (this.userLen[slot] > USER_INLINE) this.userLong.delete(slot);
    this.lc.closeSession(this.base + slot);
  }

  private sendPadt(slot: number): void {
    const f = this.startFrame(this.mac, slot * 6, this.svlan[slot], this.cvlan[slot], this.outerTpid[slot], ETH_DISCOVERY, Code.PADT, this.wireSid(slot));
    if (f < 0) return;
    this.endFrame(f, f);
    this.lc.count(C.wire_padt_out);
  }

  private accounting(slot: number, status: number, cause: number): void {
    const tr = slot * 4;
    const t = this.clock;
    const secs = this.startAt[slot] > 0 ? Math.floor((t - this.startAt[slot]) / 1000) : 0;
    const ul = this.userLen[slot];
    const long = ul > USER_INLINE ? this.userLong.get(slot) : undefined;
    const rc = this.lc.submitAcct(this.base + slot, long ?? this.user, long ? 0 : slot * USER_INLINE, ul, status, cause, this.ip[slot], this.traffic[tr], this.traffic[tr + 1],
      this.traffic[tr + 2], this.traffic[tr + 3], secs, this.startAt[slot]);
    this.lc.count(rc === 0 ? C.wire_acct_sent : C.wire_acct_refused);
  }

  // ---- frame building ----

  /** Starts a frame to `dst` in the next TX slot; returns the offset of the PPPoE payload (-1 = no room). */
  private startFrame(dstBuf: Uint8Array, dstOff: number, sv: number, cv: number, tpid: number, type: number, code: number, sid: number): number {
    if (this.txCount === BATCH) this.flush();
    const o = this.txOff[this.txCount];
    const tx = this.tx;
    const own = this.port.mac;
    for (let i = 0; i < 6; i++) {
      tx[o + i] = dstBuf[dstOff + i];
      tx[o + 6 + i] = own[i];
    }
    let p = o + 12;
    if (sv) {
      tx[p] = (tpid || 0x88a8) >> 8; tx[p + 1] = (tpid || 0x88a8) & 255; tx[p + 2] = sv >> 8; tx[p + 3] = sv & 255;
      p += 4;
      tx[p] = 0x81; tx[p + 1] = 0; tx[p + 2] = cv >> 8; tx[p + 3] = cv & 255;
      p += 4;
    } else if (cv) {
      tx[p] = (tpid || 0x8100) >> 8; tx[p + 1] = (tpid || 0x8100) & 255; tx[p + 2] = cv >> 8; tx[p + 3] = cv & 255;
      p += 4;
    }
    tx[p] = type >> 8; tx[p + 1] = type & 255;
    tx[p + 2] = 0x11; tx[p + 3] = code; tx[p + 4] = sid >> 8; tx[p + 5] = sid & 255;
    return p + 8;
  }

  /** Ends a frame whose payload runs from `f` to `end`: PPPoE length, frame length, minimum size. */
  private endFrame(f: number, end: number): void {
    const o = this.txOff[this.txCount];
    const tx = this.tx;
    const plen = end - f;
    tx[f - 2] = plen >> 8;
    tx[f - 1] = plen & 255;
    let len = end - o;
    if (len < 60) {
      for (let i = end; i < o + 60; i++) tx[i] = 0;
      len = 60;
    }
    this.txLen[this.txCount++] = len;
  }

  private tag(q: number, type: number, src: Uint8Array, off: number, len: number): number {
    const tx = this.tx;
    tx[q] = type >> 8; tx[q + 1] = type & 255; tx[q + 2] = len >> 8; tx[q + 3] = len & 255;
    if (len > 0) copyRange(tx, q + 4, src, off, off + len);
    return q + 4 + len;
  }

  /** A session frame for `slot` with PPP protocol `proto`; returns the offset of the PPP packet (-1 = none). */
  private pppFrame(slot: number, proto: number): number {
    const f = this.startFrame(this.mac, slot * 6, this.svlan[slot], this.cvlan[slot], this.outerTpid[slot], ETH_SESSION, Code.SESSION, this.wireSid(slot));
    this.tx[f] = proto >> 8;
    this.tx[f + 1] = proto & 255;
    return f + 2;
  }

  private endPpp(f: number, n: number): void {
    this.endFrame(f - 2, f + n);
  }
}

const PHASE_NAMES = ['free', 'lcp', 'auth', 'auth-wait', 'network', 'up'];

/** What `describe` shows of a session (plain data: it crosses to the control plane as a message). */
export interface SessionView {
  sid: number; lcore: number; mac: string; svlan: number; cvlan: number; phase: string; user: string; auth: 'pap' | 'chap';
  ip: string; dns: string[]; up: boolean; startedAt: number; lastDataAt: number;
  octetsIn: number; octetsOut: number; packetsIn: number; packetsOut: number;
  /** bits/s; 0 = no limit. */
  rateUp: number; rateDown: number;
  /** seconds; 0 = none. */
  idleTimeout: number; interimInterval: number;
  /** IPV6CP state and the link-local addresses of the negotiated interface identifiers. */
  ipv6cp: 'off' | 'negotiating' | 'up' | 'closed'; ipv6Local: string | null; ipv6Peer: string | null;
}

const BCAST_MAC = Uint8Array.of(255, 255, 255, 255, 255, 255);

/** A random, non-zero 64-bit interface identifier at `b[at…]` (RFC 5072 §4.1), with the universal/local bit 0 (local). */
function randomIfid(b: Uint8Array, at: number): void {
  do randomFillSync(b, at, 8); while (isZero(b, at, 8));
  b[at] &= ~0x02;
}
function isZero(b: Uint8Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[at + i] !== 0) return false;
  return true;
}
function sameBytes(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ai + i] !== b[bi + i]) return false;
  return true;
}
const ifidString = (b: Uint8Array, at: number): string => {
  const h = Array.from(b.subarray(at, at + 8), (x) => x.toString(16).padStart(2, '0'));
  return `fe80::${[0, 2, 4, 6].map((i) => (parseInt(h[i] + h[i + 1], 16)).toString(16)).join(':')}`;
};

/** Recomputes the IPv4 header checksum of the header at `p` (`ihl` bytes). */
function ipChecksum(b: Uint8Array, p: number, ihl: number): void {
  b[p + 10] = 0;
  b[p + 11] = 0;
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += (b[p + i] << 8) | b[p + i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  sum = ~sum & 0xffff;
  b[p + 10] = sum >> 8;
  b[p + 11] = sum & 255;
}

const ipString = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const AUTH_FAILED = bytes('Authentication failed');
const NO_ADDRESS = bytes('No address available');
const BUSY = bytes('Authentication service busy');
const EMPTY_MSG = new Uint8Array(0);
const SERVICE_UNAVAILABLE = bytes('Service not offered');
const NO_RESOURCES = bytes('No session available');

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 255;
  b[at + 2] = (v >>> 8) & 255;
  b[at + 3] = v & 255;
}

/** Copies src[start, end) to dst at `at` with a byte loop (no subarray view per copy on the frame path). */
function copyRange(dst: Uint8Array, at: number, src: Uint8Array, start: number, end: number): void {
  for (let i = start; i < end; i++) dst[at++] = src[i];
}

/** Table size for `n` entries: a power of two ≥ 2n (load ≤ 0.5). */
function tableBits(n: number): number {
  let b = 4;
  while (1 << b < 2 * n) b++;
  return b;
}

/** Fibonacci hashing: the top `bits` of the product (independent of the low bits that pick the lcore). */
function mixHash(h: number, bits: number): number {
  return Math.imul(h, 0x9e3779b1) >>> (32 - bits);
}

/** FNV-1a over the 6 bytes of a MAC (which lcore handles its discovery; its token bucket). */
export function macHash(b: Uint8Array, at: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < 6; i++) h = Math.imul(h ^ b[at + i], 0x01000193);
  return h >>> 0;
}

/** Acct-Interim-Interval (RADIUS attribute 85) from a response's extra attributes (seconds; 0 = absent). */
function interimOf(u8: Uint8Array, off: number): number {
  const len = u8[off + RESP.EXTRA_LEN] | (u8[off + RESP.EXTRA_LEN + 1] << 8);
  const start = off + RESP.EXTRA;
  const end = start + Math.min(len, RESP.EXTRA_MAX);
  for (let p = start; p + 2 <= end;) {
    const t = u8[p];
    const l = u8[p + 1];
    if (l < 2) break;
    if (t === 85 && l === 6) return readU32(u8, p + 2);
    p += l;
  }
  return 0;
}
