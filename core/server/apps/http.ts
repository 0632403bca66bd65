/**
 * What the HTTP apps (health, admin) share: the bearer token kept as a digest and compared in
 * constant time, and a stop that closes keep-alive connections too.
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import { safeEqual } from '../../protocol/radius/crypto';

/** The SHA-256 digest a token is kept and compared as (equal lengths for the constant-time compare). */
export const tokenDigest = (token: string): Buffer => crypto.createHash('sha256').update(token).digest();

/** True when the request carries `Authorization: Bearer <token>` matching `digest`. */
export function bearerMatches(req: http.IncomingMessage, digest: Buffer): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return !!m && safeEqual(tokenDigest(m[1].trim()), digest);
}

/** Closes a listening server and every connection it holds; resolves when it is closed. */
export async function closeHttpServer(server: http.Server | undefined): Promise<void> {
  if (!server?.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
