/**
 * Minimal typings for the npm `radius` package (1.1.4), used only as a test
 * oracle and benchmark baseline. It is never used by the server.
 */
declare module 'radius' {
  /** Attributes for encode: `[name, value]` or `['Vendor-Specific', vendor, [[name, value], …]]`. */
  type EncodeAttribute = [string | number, unknown] | [string | number, unknown, unknown];

  interface EncodeArgs {
    code: string;
    identifier?: number;
    secret: string;
    authenticator?: Buffer;
    attributes?: EncodeAttribute[] | Record<string, unknown>;
    add_message_authenticator?: boolean;
  }

  interface DecodedPacket {
    code: string;
    identifier: number;
    length: number;
    authenticator: Buffer;
    attributes: Record<string, any>;
    raw_attributes: [number, Buffer][];
  }

  const radius: {
    encode(args: EncodeArgs): Buffer;
    encode_response(args: { packet: DecodedPacket; code: string; secret: string; attributes?: EncodeAttribute[] }): Buffer;
    decode(args: { packet: Buffer; secret: string }): DecodedPacket;
    decode_without_secret(args: { packet: Buffer }): DecodedPacket;
    verify_response(args: { request: Buffer; response: Buffer; secret: string }): boolean;
  };
  export = radius;
}
