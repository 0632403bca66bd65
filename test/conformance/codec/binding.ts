/**
 * What the codec vector runner needs from the RADIUS codec, as plain results
 * (no exceptions). `bind()` adapts `core/protocol/radius` to this shape.
 */

import type { Dictionary } from '../../../core/dict/dictionary';
import type { Pair } from '../../../core/pair/pair';

/** Success or a FreeRADIUS-style error message (printed after `ERROR: `). */
export type Result<T> = { ok: true; value: T } | { ok: false; error: string; returned?: number };

/** A decoded packet, as the runner prints it. */
export interface DecodedPacket {
  code: number;
  id: number;
  authenticator: Buffer;
  pairs: Pair[];
}

/** The codec operations the vector commands use. */
export interface CodecBinding {
  /** Encodes attributes into at most `maxLength` bytes; on overflow `returned` is minus the bytes missing. */
  encodePairs(pairs: Pair[], maxLength: number): Result<Buffer>;
  /** Decodes attribute bytes (all of them). */
  decodePairs(data: Buffer): Result<Pair[]>;
  /** Checks and decodes a packet (max 200 attributes, Message-Authenticator not required). */
  decodePacket(data: Buffer): Result<DecodedPacket>;
  /** Encodes and signs a packet with ID 0. `authenticator` overrides the request vector. */
  encodePacket(code: number, pairs: Pair[], authenticator?: Buffer): Result<Buffer>;
}

/** The fixed test context: secret and request authenticator 00 01 … 0f. */
export const TEST_SECRET = 'testing123';
export const TEST_VECTOR = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');

/** Signature of the factory in `bind.ts`. */
export type BindFn = (dict: Dictionary) => CodecBinding;
