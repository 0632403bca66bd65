/**
 * Binds the RADIUS codec (`core/protocol/radius`) to the runner's
 * `CodecBinding`, with the vector files' fixed context: secret `testing123`,
 * request authenticator 00 01 … 0f, and `fr_fast_rand` seeded 6809/2112 for
 * every encode command.
 */

import type { Dictionary } from '../../../core/dict/dictionary';
import type { Pair } from '../../../core/pair/pair';
import { fastRand } from '../../../core/protocol/radius/crypto';
import { decodeAttributes, type CodecContext } from '../../../core/protocol/radius/decode';
import { encodePairs } from '../../../core/protocol/radius/encode';
import { EncodeError } from '../../../core/protocol/radius/errors';
import { checkPacket, encodePacket } from '../../../core/protocol/radius/packet';
import { TEST_SECRET, TEST_VECTOR, type CodecBinding, type Result } from './binding';

const SECRET = Buffer.from(TEST_SECRET);

function ctxFor(dict: Dictionary): CodecContext {
  return { dict, secret: SECRET, vector: TEST_VECTOR, rand: fastRand(6809, 2112) };
}

function encodeFailure(e: unknown): Result<never> {
  if (e instanceof EncodeError) {
    // FreeRADIUS prints an empty error stack when the buffer is too small.
    if (e.needed > 0) return { ok: false, error: '', returned: -e.needed };
    return { ok: false, error: e.message, returned: e.needed < 0 ? e.needed : -1 };
  }
  return { ok: false, error: e instanceof Error ? e.message : String(e) };
}

/** The codec, bound to `dict` and the test context. */
export function bind(dict: Dictionary): CodecBinding {
  return {
    encodePairs(pairs: Pair[], maxLength: number): Result<Buffer> {
      try {
        return { ok: true, value: encodePairs(pairs, ctxFor(dict), maxLength) };
      } catch (e) {
        return encodeFailure(e);
      }
    },
    decodePairs(data: Buffer): Result<Pair[]> {
      const r = decodeAttributes(data, ctxFor(dict));
      if (r.error) return { ok: false, error: `fr_radius_decode_pair: ${r.error.message}` };
      return { ok: true, value: r.pairs };
    },
    decodePacket(data: Buffer) {
      // fr_radius_ok(max_attributes = 200, require_ma = false), then decode with the
      // fixed test vector as the request authenticator (also for requests, as the
      // FreeRADIUS test harness does); authenticators are not verified.
      const bad = checkPacket(data, { maxAttributes: 200, requireMessageAuthenticator: false });
      if (bad) return { ok: false, error: `Packet failed verification - ${bad.message}` };
      const len = data.readUInt16BE(2);
      const r = decodeAttributes(data.subarray(20, len), ctxFor(dict));
      if (r.error) return { ok: false, error: r.error.message };
      return { ok: true, value: { code: data[0], id: data[1], authenticator: data.subarray(4, 20), pairs: r.pairs } };
    },
    encodePacket(code: number, pairs: Pair[], authenticator?: Buffer): Result<Buffer> {
      try {
        const buf = encodePacket(
          { code, id: 0, authenticator: authenticator ?? TEST_VECTOR, pairs },
          { dict, secret: SECRET, requestAuthenticator: TEST_VECTOR, rand: fastRand(6809, 2112) },
        );
        return { ok: true, value: buf };
      } catch (e) {
        return encodeFailure(e);
      }
    },
  };
}
