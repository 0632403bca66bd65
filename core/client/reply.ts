/**
 * Reply matching rules and verification, shared by the client tools (`core/cli/exchange.ts`) and
 * the `radius` module's connections (`modules/radius/connection.ts`): which reply codes answer
 * which request, which replies need a Message-Authenticator (BlastRADIUS), and
 * {@link verifyReply}, the one check a received reply goes through once its ID matched a packet
 * in flight (see `ids.ts`).
 */
import {
  decodePacket, packetCodeName, PacketCode, type DecodePacketOptions, type DecodePacketResult,
} from '../protocol/radius';

/** Why a reply with a matching ID is refused. */
export type ReplyDrop = 'malformed' | 'bad_authenticator' | 'missing_message_authenticator' | 'bad_code';

const ANSWERS: Record<number, readonly number[]> = {
  [PacketCode.AccessRequest]: [PacketCode.AccessAccept, PacketCode.AccessReject, PacketCode.AccessChallenge],
  [PacketCode.AccountingRequest]: [PacketCode.AccountingResponse],
  [PacketCode.CoARequest]: [PacketCode.CoAACK, PacketCode.CoANAK],
  [PacketCode.DisconnectRequest]: [PacketCode.DisconnectACK, PacketCode.DisconnectNAK],
  // RFC 5997: Access-Accept (authentication port) or Accounting-Response (accounting port); a
  // signed Access-Reject still proves the server is alive.
  [PacketCode.StatusServer]: [PacketCode.AccessAccept, PacketCode.AccessReject, PacketCode.AccountingResponse],
};

/** True when `reply` is an acceptable answer to `request` (Protocol-Error answers anything). */
export function answers(request: number, reply: number): boolean {
  return reply === PacketCode.ProtocolError || (ANSWERS[request]?.includes(reply) ?? false);
}

/**
 * True when a Message-Authenticator requirement applies to this reply: what the BlastRADIUS rules
 * cover (RFC 2869 §5.14, draft-ietf-radext-deprecating-radius): Access-Accept, Access-Reject and
 * Access-Challenge, which also answer a Status-Server sent to an authentication port.
 * Accounting-Response (also to a Status-Server on an accounting port), CoA-ACK/NAK,
 * Disconnect-ACK/NAK and Protocol-Error legitimately carry none: requiring it there would drop
 * valid replies of a server once it had signed one Access-Accept.
 */
export function maCovered(reply: number): boolean {
  return reply === PacketCode.AccessAccept || reply === PacketCode.AccessReject || reply === PacketCode.AccessChallenge;
}

/** The caller's Message-Authenticator policy (an object, so no closure is needed per packet). */
export interface MaPolicy {
  /** Whether a {@link maCovered} reply must carry Message-Authenticator now. */
  requireMa(): boolean;
  /** A verified covered reply carried Message-Authenticator (e.g. for `auto`). */
  sawMa?(): void;
}

/** Outcome of {@link verifyReply}: the decoded reply, or why it is dropped. */
export type ReplyVerdict =
  | Extract<DecodePacketResult, { ok: true }>
  | { ok: false; reason: ReplyDrop; message: string };

/**
 * Verifies a reply whose ID matched a packet in flight: decodes it against the request (`o`
 * carries the dictionary, the secret, `requestAuthenticator` and `requestCode` of that packet,
 * and optionally `maxAttributes`; callers on a hot path reuse one options object), checks the
 * Response Authenticator and any Message-Authenticator, then the Message-Authenticator
 * requirement ({@link maCovered} replies, when `ma.requireMa()`), then that the code answers
 * the request. On success the decode result itself is returned (nothing else is allocated).
 */
export function verifyReply(buf: Buffer, o: DecodePacketOptions, ma: MaPolicy): ReplyVerdict {
  const r = decodePacket(buf, o);
  if (!r.ok) {
    const c = r.error.code;
    const reason = c === 'bad-authenticator' || c === 'bad-message-authenticator' ? 'bad_authenticator' : 'malformed';
    return { ok: false, reason, message: r.error.message };
  }
  const code = r.packet.code;
  const req = o.requestCode ?? 0;
  if (maCovered(code)) {
    if (!r.hasMessageAuthenticator && ma.requireMa()) {
      return { ok: false, reason: 'missing_message_authenticator', message: 'reply has no Message-Authenticator (required)' };
    }
    if (!answers(req, code)) return badCode(req, code);
    if (r.hasMessageAuthenticator) ma.sawMa?.();
  } else if (!answers(req, code)) {
    return badCode(req, code);
  }
  return r;
}

function badCode(req: number, code: number): ReplyVerdict {
  return { ok: false, reason: 'bad_code', message: `${packetCodeName(code)} is not a reply to ${packetCodeName(req)}` };
}
