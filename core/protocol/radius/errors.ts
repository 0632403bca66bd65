/**
 * Error shapes of the RADIUS codec.
 */

/**
 * A located decode problem. `code` is a stable machine name (see README);
 * `message` reads like FreeRADIUS's (without its "Packet failed verification - "
 * prefix); `offset` is the byte offset in the packet; `attribute` the
 * attribute number at fault, when there is one.
 */
export interface DecodeError {
  code: string;
  message: string;
  offset?: number;
  attribute?: number;
}

/**
 * Thrown by the encoders when the output does not fit (`needed` > 0 is how
 * many more bytes were required) or a value cannot be encoded at all
 * (e.g. a Tunnel-Password longer than one attribute can carry).
 */
export class EncodeError extends Error {
  constructor(message: string, readonly needed = 0) {
    super(message);
    this.name = 'EncodeError';
  }
}
