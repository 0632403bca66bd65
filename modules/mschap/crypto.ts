/**
 * MS-CHAP arithmetic: RFC 2433 (MS-CHAPv1, LM hash), RFC 2759 (MS-CHAPv2 and its authenticator
 * response) and RFC 3079 (MPPE key derivation). Written out from the RFCs' pseudo-code.
 *
 * Node's OpenSSL 3 has single DES only in the legacy provider; DES with key K equals 3DES-EDE
 * with K1 = K2 = K3 = K, which the default provider has. MD4 comes from core.
 */
import * as crypto from 'node:crypto';
import { md4 } from '../../core';

/** RFC 2759 §8.1: the NT password hash, MD4 of the UTF-16LE password. */
export function ntPasswordHash(password: string): Buffer {
  return md4(Buffer.from(password, 'utf16le'));
}

/** RFC 2759 §8.4: MD4 of the NT hash. */
export function hashNtPasswordHash(hash: Buffer): Buffer {
  return md4(hash);
}

/** Spreads 7 octets into an 8-octet DES key (parity bits left as computed; DES ignores them). */
function desKey(k7: Buffer): Buffer {
  const k = Buffer.alloc(8);
  k[0] = k7[0];
  k[1] = ((k7[0] << 7) | (k7[1] >> 1)) & 0xff;
  k[2] = ((k7[1] << 6) | (k7[2] >> 2)) & 0xff;
  k[3] = ((k7[2] << 5) | (k7[3] >> 3)) & 0xff;
  k[4] = ((k7[3] << 4) | (k7[4] >> 4)) & 0xff;
  k[5] = ((k7[4] << 3) | (k7[5] >> 5)) & 0xff;
  k[6] = ((k7[5] << 2) | (k7[6] >> 6)) & 0xff;
  k[7] = (k7[6] << 1) & 0xff;
  for (let i = 0; i < 8; i++) {
    let b = k[i] & 0xfe, p = 1;
    for (let j = 1; j < 8; j++) p ^= (b >> j) & 1;
    k[i] = b | p;
  }
  return k;
}

/** RFC 2759 §8.6 DesEncrypt: one block, key of 7 octets. */
export function desEncrypt(clear8: Buffer, key7: Buffer): Buffer {
  const k = desKey(key7);
  const c = crypto.createCipheriv('des-ede3-ecb', Buffer.concat([k, k, k]), null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(clear8), c.final()]);
}

/** RFC 2759 §8.5 ChallengeResponse: the 24-octet response to an 8-octet challenge. */
export function challengeResponse(challenge: Buffer, passwordHash: Buffer): Buffer {
  const z = Buffer.alloc(21);
  passwordHash.copy(z, 0, 0, 16);
  return Buffer.concat([desEncrypt(challenge, z.subarray(0, 7)), desEncrypt(challenge, z.subarray(7, 14)), desEncrypt(challenge, z.subarray(14, 21))]);
}

/** RFC 2759 §8.2 ChallengeHash: SHA1(peer challenge ‖ authenticator challenge ‖ user name), 8 octets. */
export function challengeHash(peerChallenge: Buffer, authChallenge: Buffer, userName: string): Buffer {
  return crypto.createHash('sha1').update(peerChallenge).update(authChallenge).update(Buffer.from(userName, 'utf8')).digest().subarray(0, 8);
}

/** RFC 2759 §8.1 GenerateNTResponse. */
export function generateNtResponse(authChallenge: Buffer, peerChallenge: Buffer, userName: string, passwordHash: Buffer): Buffer {
  return challengeResponse(challengeHash(peerChallenge, authChallenge, userName), passwordHash);
}

const MAGIC1 = Buffer.from('Magic server to client signing constant', 'ascii');
const MAGIC2 = Buffer.from('Pad to make it do more than one iteration', 'ascii');

/** RFC 2759 §8.7 GenerateAuthenticatorResponse: `S=` and 40 upper-case hex digits. */
export function authenticatorResponse(passwordHash: Buffer, ntResponse: Buffer, peerChallenge: Buffer, authChallenge: Buffer, userName: string): string {
  return authenticatorResponseFromHashHash(hashNtPasswordHash(passwordHash), ntResponse, peerChallenge, authChallenge, userName);
}

/**
 * {@link authenticatorResponse} from the hash of the NT hash, which is all ntlm_auth gives back
 * (its `NT_KEY`) when the password itself stays with the domain controller.
 */
export function authenticatorResponseFromHashHash(hh: Buffer, ntResponse: Buffer, peerChallenge: Buffer, authChallenge: Buffer, userName: string): string {
  const d1 = crypto.createHash('sha1').update(hh).update(ntResponse).update(MAGIC1).digest();
  const ch = challengeHash(peerChallenge, authChallenge, userName);
  const d2 = crypto.createHash('sha1').update(d1).update(ch).update(MAGIC2).digest();
  return 'S=' + d2.toString('hex').toUpperCase();
}

/** RFC 2433 §A.2 LmPasswordHash: DES of "KGS!@#$%" under the upper-cased, 14-octet password halves. */
export function lmPasswordHash(password: string): Buffer {
  const p = Buffer.alloc(14);
  Buffer.from(password.toUpperCase(), 'latin1').copy(p, 0, 0, 14);
  const magic = Buffer.from('KGS!@#$%', 'ascii');
  return Buffer.concat([desEncrypt(magic, p.subarray(0, 7)), desEncrypt(magic, p.subarray(7, 14))]);
}

// RFC 3079 §3.4 constants.
const MPPE_MAGIC1 = Buffer.from('This is the MPPE Master Key', 'ascii');
const MPPE_MAGIC2 = Buffer.from('On the client side, this is the send key; on the server side, it is the receive key.', 'ascii');
const MPPE_MAGIC3 = Buffer.from('On the client side, this is the receive key; on the server side, it is the send key.', 'ascii');
const SHS_PAD1 = Buffer.alloc(40, 0x00);
const SHS_PAD2 = Buffer.alloc(40, 0xf2);

/** RFC 3079 §3.4 GetMasterKey. */
export function masterKey(passwordHashHash: Buffer, ntResponse: Buffer): Buffer {
  return crypto.createHash('sha1').update(passwordHashHash).update(ntResponse).update(MPPE_MAGIC1).digest().subarray(0, 16);
}

/** RFC 3079 §3.4 GetAsymmetricStartKey, server side. */
export function asymmetricStartKey(master: Buffer, keyLength: number, isSend: boolean): Buffer {
  const s = isSend ? MPPE_MAGIC3 : MPPE_MAGIC2;
  return crypto.createHash('sha1').update(master).update(SHS_PAD1).update(s).update(SHS_PAD2).digest().subarray(0, keyLength);
}

/** The server's MPPE send and receive keys (16 octets each) after MS-CHAPv2. */
export function mppeV2Keys(passwordHashHash: Buffer, ntResponse: Buffer): { send: Buffer; recv: Buffer } {
  const mk = masterKey(passwordHashHash, ntResponse);
  return { send: asymmetricStartKey(mk, 16, true), recv: asymmetricStartKey(mk, 16, false) };
}

/** RC4 (the stream cipher of RFC 2759 §8.9; OpenSSL 3 keeps it out of the default provider). */
export function rc4(key: Buffer, data: Buffer): Buffer {
  const st = new Uint8Array(256);
  for (let i = 0; i < 256; i++) st[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + st[i] + key[i % key.length]) & 0xff;
    const t = st[i]; st[i] = st[j]; st[j] = t;
  }
  const out = Buffer.alloc(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + st[i]) & 0xff;
    const t = st[i]; st[i] = st[j]; st[j] = t;
    out[n] = data[n] ^ st[(st[i] + st[j]) & 0xff];
  }
  return out;
}

/**
 * RFC 2759 §8.9–8.10 in reverse: the new password out of the 516-octet block the client encrypted
 * with RC4 under the old NT hash (512 octets whose tail is the UTF-16LE password, then its length
 * as a 32-bit little-endian number). Undefined when the length is impossible (a wrong old hash).
 */
export function decryptNewPassword(block516: Buffer, oldNtHash: Buffer): { password: string; utf16: Buffer } | undefined {
  const clear = rc4(oldNtHash, block516);
  const len = clear.readUInt32LE(512);
  if (len > 512 || len % 2 !== 0) return undefined;
  const utf16 = clear.subarray(512 - len, 512);
  return { password: utf16.toString('utf16le'), utf16 };
}

/** RFC 2759 §8.12 OldNtPasswordHashEncryptedWithNewNtPasswordHash: the check value a password change carries. */
export function oldHashEncryptedWithNewHash(oldNtHash: Buffer, newNtHash: Buffer): Buffer {
  return Buffer.concat([desEncrypt(oldNtHash.subarray(0, 8), newNtHash.subarray(0, 7)), desEncrypt(oldNtHash.subarray(8, 16), newNtHash.subarray(7, 14))]);
}
