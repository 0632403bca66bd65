/**
 * What `require_message_authenticator = auto` / `limit_proxy_state = auto` learn: the set of
 * clients that have sent a valid Message-Authenticator in an Access-Request (BlastRADIUS).
 *
 * The set must not be forgotten, or `auto` falls back to accepting unprotected requests:
 * - across **workers**: one process learns, the cluster primary holds the truth and
 *   broadcasts it (core/server/cluster.ts, `learn` / `learned` messages);
 * - across **reloads**: every new client table is marked from the set;
 * - across **restarts**: the set is kept in a small state file (`${run_dir}/${name}.ma-seen`),
 *   written (atomically, via rename) only when something new is learned.
 *
 * A client is identified by its network and section name (the same client after an edit of
 * its secret is still the same client). File format, one client per line:
 *
 * ```
 * # comment
 * seen 192.0.2.0/24 nas-pool
 * ```
 * A bad line or an unreadable file is a located warning (`file[line]: …`) and never a crash.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Logger } from '../log/logger';
import type { RadiusClient } from './types';

/** Identity of a client across reloads and restarts: network and section name. */
export function clientKey(c: Pick<RadiusClient, 'name' | 'network'>): string {
  return `${c.network} ${c.name}`;
}

/**
 * The log line for a client that has just sent its first Message-Authenticator, or undefined
 * when that changes nothing for it (`require_message_authenticator = yes`, or `no` with
 * `limit_proxy_state` not `auto`): then nothing is logged or recorded.
 */
export function maLearnedNote(c: RadiusClient): string | undefined {
  const who = `client ${c.shortname} (${c.network})`;
  if (c.requireMessageAuthenticator === 'auto') {
    return `${who} sent a Message-Authenticator: requiring it in every Access-Request from now on (require_message_authenticator = auto)`;
  }
  if (c.requireMessageAuthenticator === 'no' && c.limitProxyState === 'auto') {
    return `${who} sent a Message-Authenticator: dropping its Access-Requests that carry Proxy-State without one from now on `
      + '(limit_proxy_state = auto; require_message_authenticator = no, so other requests without it are still accepted)';
  }
  return undefined;
}

/** Receives what a listener learned about a client (`ListenerDeps.clientState`). */
export interface ClientStateSink {
  /** The client sent its first valid Message-Authenticator; `note` is the line to log once. */
  messageAuthenticatorSeen(client: RadiusClient, note: string): void;
}

/** Tables whose clients can be marked (`ClientTable`). */
export interface MarkableTable {
  readonly clients: readonly RadiusClient[];
}

/** The learned set plus its state file. */
export class MaSeenState {
  private readonly seen = new Set<string>();

  /**
   * `file` undefined keeps the set in memory only. `persist` false reads the file but never
   * writes it (cluster workers: the primary writes).
   */
  constructor(readonly file: string | undefined, private readonly log?: Logger, private readonly persist = true) {}

  /** Number of clients known to send Message-Authenticator. */
  get size(): number {
    return this.seen.size;
  }

  has(key: string): boolean {
    return this.seen.has(key);
  }

  keys(): string[] {
    return [...this.seen];
  }

  /** Adds a key; true when it was new. Memory only: call {@link save} to persist. */
  add(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  /** Marks every client of `tables` that is in the set (`maSeen = true`). */
  mark(tables: Iterable<MarkableTable>): void {
    if (this.seen.size === 0) return;
    for (const t of tables) for (const c of t.clients) if (!c.maSeen && this.seen.has(clientKey(c))) c.maSeen = true;
  }

  /**
   * Reads the state file (a missing file is an empty set). Problems are warnings with the
   * file and line; `quiet` suppresses them (cluster workers: the primary reports them).
   */
  load(quiet = false): void {
    const file = this.file;
    if (!file) return;
    const warn = (msg: string): void => { if (!quiet) this.log?.warn(msg); };
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        warn(`${file}: cannot read the Message-Authenticator state (${(e as Error).message}); starting with none learned`);
      }
      return;
    }
    const lines = text.split('\n');
    let bad = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === '' || line.startsWith('#')) continue;
      const m = /^seen\s+(\S+)\s+(\S.*)$/.exec(line);
      const network = m?.[1];
      if (!m || !validNetwork(network!)) {
        if (++bad <= 5) warn(`${file}[${i + 1}]: ignoring a bad line in the Message-Authenticator state (expected "seen NETWORK CLIENT-NAME")`);
        continue;
      }
      this.seen.add(`${network} ${m[2]}`);
    }
    if (bad > 5) warn(`${file}: ${bad - 5} more bad lines ignored`);
  }

  /** Writes the set to the state file (temp file + rename). Errors are logged, never thrown. */
  save(): void {
    const file = this.file;
    if (!file || !this.persist) return;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const body = [...this.seen].sort().map((k) => `seen ${k}`).join('\n');
      fs.writeFileSync(tmp, '# tsradius: clients that have sent Message-Authenticator (require_message_authenticator / limit_proxy_state = auto).\n'
        + '# To forget a client: stop the server, delete its line, start the server.\n' + body + '\n');
      fs.renameSync(tmp, file);
    } catch (e) {
      try { fs.unlinkSync(tmp); } catch { /* not there */ }
      this.log?.error(`${file}: cannot write the Message-Authenticator state: ${(e as Error).message}`);
    }
  }
}

function validNetwork(s: string): boolean {
  const i = s.indexOf('/');
  const addr = i < 0 ? s : s.slice(0, i);
  if (!net.isIP(addr)) return false;
  if (i < 0) return true;
  const len = Number(s.slice(i + 1));
  return Number.isInteger(len) && len >= 0 && len <= (net.isIPv4(addr) ? 32 : 128);
}
