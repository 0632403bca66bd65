/**
 * The RADIUS codec: pure functions from pairs to bytes and back (no I/O).
 *
 * See README.md in this folder for the API, what is verified, and the
 * security notes.
 */
export type { CodecContext, DecodeAttributesResult, EncodeWarning } from './decode';
export { decodePairs, decodeAttributes } from './decode';
export { encodePairs, encodeInto } from './encode';
export type { DecodeError } from './errors';
export { EncodeError } from './errors';
export type { RadiusPacket, CheckOptions, DecodePacketOptions, DecodePacketResult, EncodePacketOptions } from './packet';
export { PacketCode, packetCodeName, isKnownCode, isRequestCode, checkPacket, decodePacket, verifyPacket, encodePacket } from './packet';
export {
  fastRand, secureRand, md5, hmacMd5, safeEqual,
  encryptUserPassword, decryptUserPassword, encryptTunnelPassword, decryptTunnelPassword, ascendSecret,
} from './crypto';
