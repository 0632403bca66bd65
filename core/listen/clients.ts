/**
 * The client table: `client NAME { … }` sections parsed with the config
 * schema DSL, looked up by source address with longest-prefix match, plus the
 * per-client packet-rate limit (`max_pps`, a token bucket).
 *
 * BlastRADIUS defaults (secure by default): `require_message_authenticator =
 * yes` and `limit_proxy_state = auto`. `auto` means "not required until the
 * first packet from this client carries a valid Message-Authenticator, then
 * required from then on" (FreeRADIUS 3.2.5+ / v4).
 */
import * as net from 'node:net';
import { findPair, unescapeValue, type ConfPair, type ConfSection } from '../config/ast';
import { ConfError } from '../config/errors';
import { conf, parseSection } from '../config/schema';
import { suggest } from '../types/suggest';
import type { ClientLookup, RadiusClient, YesNoAuto } from './types';

/** The schema of a `client NAME { … }` section. */
export const ClientSchema = conf.section({
  ipaddr: conf.ipaddr({ prefix: true, doc: 'Client address or network (IPv4 or IPv6, optional /prefix).' }),
  ipv4addr: conf.ipaddr({ version: 4, prefix: true, doc: 'Client IPv4 address or network.' }),
  ipv6addr: conf.ipaddr({ version: 6, prefix: true, doc: 'Client IPv6 address or network.' }),
  network: conf.ipaddr({ prefix: true, doc: 'Client network in CIDR notation (same as ipaddr with a prefix).' }),
  netmask: conf.integer({ min: 0, max: 128, doc: 'Prefix length applied to ipaddr (v3 compatibility).' }),
  secret: conf.string({ required: true, secret: true, doc: 'Shared secret.' }),
  shortname: conf.string({ doc: 'Short name for logs and Client-Shortname (default: the section name).' }),
  nas_type: conf.string({ default: 'other', doc: 'NAS type (informational).' }),
  require_message_authenticator: conf.enum(['yes', 'no', 'auto'] as const, {
    default: 'yes',
    doc: 'Require Message-Authenticator in Access-Request (BlastRADIUS). auto: required once seen.',
  }),
  limit_proxy_state: conf.enum(['yes', 'no', 'auto'] as const, {
    default: 'auto',
    doc: 'Drop Access-Request with Proxy-State but no Message-Authenticator. auto: once a Message-Authenticator was seen.',
  }),
  max_pps: conf.integer({ default: 0, min: 0, doc: 'Packets per second accepted from this client (0 = unlimited).' }),
  // Accepted for compatibility with FreeRADIUS client definitions; not used here.
  proto: conf.enum(['udp', 'tcp', '*'] as const, { default: '*', doc: 'Transport the client may use.' }),
  virtual_server: conf.string({ doc: 'Accepted for compatibility; ignored (listeners select the site).' }),
  response_window: conf.raw({ doc: 'Accepted for compatibility; ignored.' }),
  coa_server: conf.subsection({
    ipaddr: conf.ipaddr({ doc: 'Where CoA-Request/Disconnect-Request for this NAS go (default: the NAS address of the session).' }),
    port: conf.integer({ default: 3799, min: 1, max: 65535, doc: 'The NAS\'s dynamic-authorization port (RFC 5176: 3799).' }),
    secret: conf.string({ secret: true, doc: 'Secret for CoA/Disconnect (default: the client\'s secret).' }),
  }, { optional: true, doc: 'Where the server sends CoA-Request and Disconnect-Request for sessions of this NAS (core/dac).' }),
  limit: conf.raw({ doc: 'Accepted for compatibility; ignored.' }),
  login: conf.raw({ doc: 'Accepted for compatibility; ignored.' }),
  password: conf.raw({ doc: 'Accepted for compatibility; ignored.' }),
});

/** A client's `coa_server { … }`: unset fields default to the NAS address and the client's secret. */
export interface CoaServer {
  readonly ipaddr?: string;
  readonly port: number;
  readonly secret?: Buffer;
}

/** A configured client plus its runtime state. */
export class Client implements RadiusClient {
  maSeen = false;
  /** Allowed transport (`*` = both). */
  readonly proto: 'udp' | 'tcp' | '*';
  /** Token bucket: tokens left and the last refill time (ms). */
  private tokens: number;
  private last = 0;
  /** Divisor applied to max_pps (worker count under cluster). */
  private pps: number;

  constructor(
    readonly name: string,
    readonly shortname: string,
    readonly secret: Buffer,
    readonly nasType: string,
    readonly network: string,
    readonly requireMessageAuthenticator: YesNoAuto,
    readonly limitProxyState: YesNoAuto,
    readonly maxPps: number,
    proto: 'udp' | 'tcp' | '*' = '*',
    /** `coa_server { … }`: where CoA/Disconnect for this NAS's sessions go (undefined: port 3799 of the NAS, the client's secret). */
    readonly coaServer?: CoaServer,
    /**
     * Every item written in the section, by lower-case name, values in order (`group = a`, `group = b`),
     * plus `shortname` and `nas_type` with their defaults: what `%client(field)` and `map client` read.
     */
    readonly fields: ReadonlyMap<string, readonly string[]> = new Map(),
  ) {
    this.proto = proto;
    this.pps = maxPps;
    this.tokens = maxPps;
  }

  /** Spreads the rate over `n` processes sharing one socket (each gets max_pps / n, at least 1). */
  setShare(n: number): void {
    this.pps = this.maxPps > 0 ? Math.max(1, this.maxPps / Math.max(1, n)) : 0;
    this.tokens = Math.min(this.tokens, this.pps);
  }

  /**
   * Takes one token from the bucket (capacity = one second's worth). Returns
   * false when the client is over its rate. `now` is in milliseconds.
   */
  take(now: number): boolean {
    const pps = this.pps;
    if (pps <= 0) return true;
    const dt = now - this.last;
    this.last = now;
    if (dt > 0) {
      const t = this.tokens + (dt * pps) / 1000;
      this.tokens = t > pps ? pps : t;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

/** Is Message-Authenticator required in an Access-Request from this client now? */
export function maRequired(c: RadiusClient): boolean {
  const m = c.requireMessageAuthenticator;
  return m === 'yes' || (m === 'auto' && c.maSeen);
}

/** Is a Proxy-State without Message-Authenticator to be dropped for this client now? */
export function proxyStateLimited(c: RadiusClient): boolean {
  const m = c.limitProxyState;
  return m === 'yes' || (m === 'auto' && c.maSeen);
}

/** Rate limiting for a client: true when the packet may pass. Clients not built here are never limited. */
export function takeToken(c: RadiusClient, now: number): boolean {
  return c instanceof Client ? c.take(now) : true;
}

/** Normalises an address: IPv4-mapped IPv6 → IPv4, IPv6 lowercased. */
export function normaliseAddress(address: string): string {
  if (address.length > 7 && address.charCodeAt(0) === 58 /* : */ && address.startsWith('::ffff:') && net.isIPv4(address.slice(7))) {
    return address.slice(7);
  }
  return address;
}

function v4ToInt(s: string): number {
  const p = s.split('.');
  return (((+p[0] << 24) >>> 0) + (+p[1] << 16) + (+p[2] << 8) + +p[3]) >>> 0;
}

/** 16-byte IPv6 address from text (net.isIPv6 must be true). */
function v6ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  // Embedded IPv4 tail (`::ffff:1.2.3.4`).
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let words: number[] = [];
  if (tail.includes('.')) {
    const n = v4ToInt(tail);
    text = `${text.slice(0, lastColon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    const head = text.slice(0, dbl).split(':').filter((x) => x !== '');
    const rest = text.slice(dbl + 2).split(':').filter((x) => x !== '');
    words = [...head.map((h) => parseInt(h, 16)), ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest.map((h) => parseInt(h, 16))];
  } else {
    words = text.split(':').map((h) => parseInt(h, 16));
  }
  for (let i = 0; i < 8; i++) { out[2 * i] = words[i] >> 8; out[2 * i + 1] = words[i] & 0xff; }
  return out;
}

/** Key of an IPv6 address masked to `len` bits (hex of the kept bytes plus a partial byte). */
function v6Key(b: Uint8Array, len: number): string {
  let s = '';
  const full = len >> 3;
  for (let i = 0; i < full; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  const rem = len & 7;
  if (rem) s += '/' + (b[full] & ((0xff << (8 - rem)) & 0xff)).toString(16);
  return s;
}

/**
 * Longest-prefix client table for IPv4 and IPv6. Exact host entries (/32,
 * /128) are found with one Map lookup on the address text; networks are
 * searched from the longest configured prefix length down.
 */
export class ClientTable implements ClientLookup {
  private readonly hosts = new Map<string, Client>();
  private readonly v4 = new Map<number, Map<number, Client>>();
  private v4Lens: number[] = [];
  private readonly v6 = new Map<number, Map<string, Client>>();
  private v6Lens: number[] = [];
  private readonly all: Client[] = [];

  /** Every client, in the order added. */
  get clients(): readonly Client[] {
    return this.all;
  }

  /** Number of clients. */
  get size(): number {
    return this.all.length;
  }

  /**
   * Adds a client for `network` (`addr` or `addr/len`). Returns the client
   * already registered for exactly that network, if any (the caller reports
   * the duplicate), else undefined.
   */
  add(client: Client): Client | undefined {
    const { addr, len } = splitNet(client.network);
    const fam = net.isIP(addr);
    if (fam === 4) {
      if (len === 32) {
        const old = this.hosts.get(addr);
        if (old) return old;
        this.hosts.set(addr, client);
      } else {
        const key = len === 0 ? 0 : (v4ToInt(addr) & ((0xffffffff << (32 - len)) >>> 0)) >>> 0;
        let m = this.v4.get(len);
        if (!m) { m = new Map(); this.v4.set(len, m); this.v4Lens = [...this.v4.keys()].sort((a, b) => b - a); }
        const old = m.get(key);
        if (old) return old;
        m.set(key, client);
      }
    } else {
      const b = v6ToBytes(addr);
      if (len === 128) {
        const text = canonicalV6(b);
        const old = this.hosts.get(text);
        if (old) return old;
        this.hosts.set(text, client);
      } else {
        const key = v6Key(b, len);
        let m = this.v6.get(len);
        if (!m) { m = new Map(); this.v6.set(len, m); this.v6Lens = [...this.v6.keys()].sort((a, b) => b - a); }
        const old = m.get(key);
        if (old) return old;
        m.set(key, client);
      }
    }
    this.all.push(client);
    return undefined;
  }

  find(address: string): Client | undefined {
    const a = normaliseAddress(address);
    const hit = this.hosts.get(a);
    if (hit) return hit;
    if (net.isIPv4(a)) {
      if (this.v4Lens.length === 0) return undefined;
      const n = v4ToInt(a);
      for (const len of this.v4Lens) {
        const key = len === 0 ? 0 : (n & ((0xffffffff << (32 - len)) >>> 0)) >>> 0;
        const c = this.v4.get(len)!.get(key);
        if (c) return c;
      }
      return undefined;
    }
    if (!net.isIPv6(a)) return undefined;
    const b = v6ToBytes(a);
    const canon = canonicalV6(b);
    if (canon !== a) {
      const h = this.hosts.get(canon);
      if (h) return h;
    }
    for (const len of this.v6Lens) {
      const c = this.v6.get(len)!.get(v6Key(b, len));
      if (c) return c;
    }
    return undefined;
  }

  /** Sets every client's rate share (cluster: the number of workers sharing the socket). */
  setShare(n: number): void {
    for (const c of this.all) c.setShare(n);
  }
}

function splitNet(s: string): { addr: string; len: number } {
  const i = s.indexOf('/');
  if (i < 0) return { addr: s, len: net.isIPv4(s) ? 32 : 128 };
  return { addr: s.slice(0, i), len: Number(s.slice(i + 1)) };
}

/** Canonical text of an IPv6 address (what Node reports in rinfo.address). */
function canonicalV6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[2 * i] << 8) | b[2 * i + 1]);
  // Longest run of zero words (length ≥ 2) becomes '::'.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical network text of an address/prefix: host bits cleared, default prefix per family. */
export function canonicalNetwork(text: string): string {
  const { addr, len } = splitNet(text);
  if (net.isIPv4(addr)) {
    if (len === 32) return addr;
    const n = len === 0 ? 0 : (v4ToInt(addr) & ((0xffffffff << (32 - len)) >>> 0)) >>> 0;
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${len}`;
  }
  const b = v6ToBytes(addr);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    b[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return len === 128 ? canonicalV6(b) : `${canonicalV6(b)}/${len}`;
}

/**
 * Parses one `client NAME { … }` section. Throws a located {@link ConfError}
 * (unknown item, missing secret, no address, bad value).
 */
export function parseClient(cs: ConfSection): Client {
  // FreeRADIUS lets a client section carry items of the operator's own (`group = staff`, `directory`),
  // read back by policy through rlm_client; a name close to one of ours is still a typo (an error).
  const known = Object.keys(ClientSchema.fields);
  const custom = (it: ConfSection['children'][number]): it is ConfPair =>
    it.kind === 'pair' && it.op === '=' && !known.includes(it.attr.toLowerCase()) && suggest(it.attr, known) === undefined;
  const schemaPart = cs.children.some(custom) ? { ...cs, children: cs.children.filter((it) => !custom(it)) } : cs;
  const c = parseSection(ClientSchema, schemaPart);
  const name = cs.name2 ?? '';
  if (name === '') throw new ConfError('ERR_CONF_MISSING', cs.loc, 'client: a client section needs a name');
  const set = [c.ipaddr, c.ipv4addr, c.ipv6addr, c.network].filter((x) => x !== undefined) as string[];
  if (set.length === 0) throw new ConfError('ERR_CONF_MISSING', cs.loc, `client ${name}: needs ipaddr, ipv4addr, ipv6addr or network`);
  if (set.length > 1) throw new ConfError('ERR_CONF_DUPLICATE', cs.loc, `client ${name}: only one of ipaddr, ipv4addr, ipv6addr and network may be set`);
  let netText = set[0];
  if (c.netmask !== undefined) {
    const loc = findPair(cs, 'netmask')?.loc ?? cs.loc;
    if (netText.includes('/')) throw new ConfError('ERR_CONF_DUPLICATE', loc, `client ${name} { netmask }: the address already has a prefix`);
    if (net.isIPv4(netText) && c.netmask > 32) throw new ConfError('ERR_CONF_RANGE', loc, `client ${name} { netmask }: ${c.netmask} is above 32 for an IPv4 address`);
    netText = `${netText}/${c.netmask}`;
  }
  // `ipaddr = *` (0.0.0.0 / ::) means any address.
  if (netText === '0.0.0.0') netText = '0.0.0.0/0';
  else if (netText === '::') netText = '::/0';
  if (c.secret === '') throw new ConfError('ERR_CONF_VALUE', findPair(cs, 'secret')?.loc ?? cs.loc, `client ${name} { secret }: must not be empty`);
  return new Client(
    name,
    c.shortname ?? name,
    Buffer.from(c.secret, 'utf8'),
    c.nas_type,
    canonicalNetwork(netText),
    c.require_message_authenticator,
    c.limit_proxy_state,
    c.max_pps,
    c.proto,
    c.coa_server && {
      ipaddr: c.coa_server.ipaddr,
      port: c.coa_server.port,
      secret: c.coa_server.secret !== undefined && c.coa_server.secret !== '' ? Buffer.from(c.coa_server.secret, 'utf8') : undefined,
    },
    clientFields(cs, name, c.shortname ?? name, c.nas_type),
  );
}

/** The items of a client section as `%client(field)` reads them (see {@link Client.fields}). */
function clientFields(cs: ConfSection, name: string, shortname: string, nasType: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const it of cs.children) {
    if (it.kind !== 'pair' || it.value === undefined) continue;
    const k = it.attr.toLowerCase();
    let l = out.get(k);
    if (!l) out.set(k, (l = []));
    l.push(unescapeValue(it.value, it.quote));
  }
  if (!out.has('shortname')) out.set('shortname', [shortname]);
  if (!out.has('nas_type')) out.set('nas_type', [nasType]);
  if (!out.has('name')) out.set('name', [name]);
  return out;
}

/**
 * The clients of the running generation, for modules (`CLIENTS` token): FreeRADIUS's `client_find()`.
 * Filled by the generation once its client tables exist (after the modules are instantiated, before
 * the first request); empty until then.
 */
export class ClientDirectory {
  private global: ClientTable | undefined;
  private servers: ReadonlyMap<string, ClientTable> = new Map();

  /** Called by the generation with its tables. */
  set(global: ClientTable, servers: ReadonlyMap<string, ClientTable>): void {
    this.global = global;
    this.servers = servers;
  }

  /** The global client for an address (longest prefix), or, failing that, the first server-local one. */
  find(address: string): Client | undefined {
    const hit = this.global?.find(address);
    if (hit) return hit;
    for (const t of this.servers.values()) {
      const c = t.find(address);
      if (c) return c;
    }
    return undefined;
  }

  /**
   * The client a request came from: the one for its source address whose shortname is the request's
   * Client-Shortname when given (a server-local client shadows a global one), else the global one.
   */
  forSource(address: string, shortname?: string): Client | undefined {
    const hit = this.global?.find(address);
    if (!shortname || hit?.shortname === shortname) return hit ?? this.find(address);
    for (const t of this.servers.values()) {
      const c = t.find(address);
      if (c?.shortname === shortname) return c;
    }
    return hit ?? this.find(address);
  }
}

/**
 * Builds a client table from `client` sections (top-level, inside a server,
 * or from clients.d). Throws a located {@link ConfError}; two clients for the
 * same network are an error.
 */
export function parseClients(sections: Iterable<ConfSection>): ClientTable {
  const table = new ClientTable();
  for (const cs of sections) {
    const c = parseClient(cs);
    const old = table.add(c);
    if (old) throw new ConfError('ERR_CONF_DUPLICATE', cs.loc, `client ${c.name}: network ${c.network} is already used by client ${old.name}`);
  }
  return table;
}
