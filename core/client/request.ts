/**
 * Encoding of the requests a RADIUS client sends, shared by the client tools
 * (`core/cli/exchange.ts`) and the `radius` module (`modules/radius/`).
 */
import type { Dictionary } from '../dict/dictionary';
import type { Pair } from '../pair/pair';
import { encodePacket, PacketCode, type EncodePacketOptions } from '../protocol/radius';

/** `authenticator` that lets the encoder pick (random for Access-Request/Status-Server, hashed otherwise). Never written. */
export const NO_AUTH: Buffer = Buffer.alloc(0);

/**
 * True when a request of this code carries a Message-Authenticator: Access-Request (BlastRADIUS,
 * draft-ietf-radext-deprecating-radius) and Status-Server (RFC 5997).
 */
export function requestWantsMa(code: number): boolean {
  return code === PacketCode.AccessRequest || code === PacketCode.StatusServer;
}

/**
 * The Request Authenticator of encoded bytes: a view, not a copy (the bytes must not be written
 * afterwards; a changed packet is encoded again into new bytes).
 */
export function requestAuthenticator(buf: Buffer): Buffer {
  return buf.subarray(4, 20);
}

/**
 * Encodes requests for one server (dictionary and secret). The encode options are built once, so
 * encoding a packet allocates nothing besides the packet header object and the bytes.
 */
export class RequestEncoder {
  private readonly withMa: EncodePacketOptions;
  private readonly withoutMa: EncodePacketOptions;

  /** `messageAuthenticator` false: never add one where {@link requestWantsMa} (Status-Server still gets one: RFC 5997). */
  constructor(dict: Dictionary, secret: Buffer, private readonly messageAuthenticator = true) {
    this.withMa = { dict, secret, messageAuthenticator: true };
    this.withoutMa = { dict, secret, messageAuthenticator: false };
  }

  /**
   * Encodes one request. `authenticator`: 16 bytes to use as Request Authenticator of an
   * Access-Request/Status-Server (e.g. when it is the CHAP challenge); default: the encoder
   * picks. Throws `EncodeError` when the attributes do not fit.
   */
  encode(code: number, id: number, pairs: Pair[], authenticator: Buffer = NO_AUTH): Buffer {
    const o = this.messageAuthenticator && requestWantsMa(code) ? this.withMa : this.withoutMa;
    return encodePacket({ code, id, authenticator, pairs }, o);
  }
}
