/**
 * Back-end reachability for `radiusd -C` (FreeRADIUS checks only the configuration; we also say
 * when a server a module names does not answer). A definition's `probe` runs under `-C` only,
 * after `validate`, with a bounded time; what it reports is a located warning, never a failure:
 * a directory that is down while the configuration is checked is not a configuration error, and
 * start-up does not fail on it either (`instantiate` never waits on a remote server).
 */
import * as net from 'node:net';

/** Where {@link probeTcp} connects: a host and port, or a Unix socket path. */
export type ProbeTarget = { readonly host: string; readonly port: number } | { readonly path: string };

/** Milliseconds a probe may take in all (per module) before it is reported as not answering. */
export const PROBE_TIMEOUT_MS = 3000;

/**
 * Opens a TCP (or Unix socket) connection to `target` and closes it at once. Resolves when the
 * connection is accepted; rejects with a readable reason (`127.0.0.1:389: connection refused`,
 * `… no answer within 2000 ms`) otherwise. Sends nothing.
 */
export function probeTcp(target: ProbeTarget, timeoutMs = 2000, signal?: AbortSignal): Promise<void> {
  const label = 'path' in target ? target.path : `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  return new Promise<void>((resolve, reject) => {
    const sock = 'path' in target ? net.connect({ path: target.path }) : net.connect({ host: target.host, port: target.port });
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err); else resolve();
    };
    const onAbort = (): void => finish(new Error(`${label}: probe cancelled`));
    const timer = setTimeout(() => finish(new Error(`${label}: no answer within ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => finish());
    sock.once('error', (e: NodeJS.ErrnoException) => finish(new Error(`${label}: ${reason(e)}`)));
  });
}

function reason(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED': return 'connection refused (nothing listens there)';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'host name does not resolve';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable';
    case 'ENOENT': return 'no such socket';
    default: return e.message;
  }
}
