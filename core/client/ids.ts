/**
 * The 256-entry RADIUS ID table of one socket or stream: which packet in flight owns which ID,
 * with the Request Authenticator of its bytes on the wire (to verify the reply), and the
 * authenticator of the last packet freed from each ID (to tell a late reply from an
 * unsolicited one). Used by the client tools (`core/cli/client.ts`) and the `radius` module's
 * connections (`modules/radius/connection.ts`).
 *
 * Free IDs are handed out least recently used first (a ring of 256 bytes, no allocation per
 * packet), so an ID is reused as late as possible.
 */

/** What the table tracks per ID. */
export interface IdOwner {
  /** Request Authenticator of the bytes on the wire (set once encoded; read when a reply arrives). */
  auth: Buffer;
}

/** One socket's or stream's 256 RADIUS IDs. */
export class IdTable<T extends IdOwner> {
  private readonly owners: (T | undefined)[] = new Array(256).fill(undefined);
  private readonly retiredAuth: (Buffer | undefined)[] = new Array(256).fill(undefined);
  /** Free IDs, oldest first: `ring[(head + i) & 0xff]` for i < `count`. */
  private readonly ring = new Uint8Array(256);
  private head = 0;
  private count = 256;
  private used = 0;

  /** `start`: the first ID handed out (the others follow in order). */
  constructor(start = 0) {
    for (let i = 0; i < 256; i++) this.ring[i] = (start + i) & 0xff;
  }

  /** Free IDs. */
  get free(): number {
    return this.count;
  }

  /** IDs owned (allocated or assigned to a reserved ID). */
  get inUse(): number {
    return this.used;
  }

  /** Takes the least recently used free ID for `t`; undefined when none is free. */
  allocate(t: T): number | undefined {
    if (this.count === 0) return undefined;
    const id = this.take();
    this.owners[id] = t;
    this.used++;
    return id;
  }

  /** Frees `id` if `t` still owns it, remembering its authenticator (see {@link retired}). */
  release(id: number, t: T): boolean {
    if (id < 0 || id > 255 || this.owners[id] !== t) return false;
    this.owners[id] = undefined;
    this.used--;
    this.retiredAuth[id] = t.auth;
    this.ring[(this.head + this.count) & 0xff] = id;
    this.count++;
    return true;
  }

  /** The packet in flight with this ID (the reply's ID byte). */
  get(id: number): T | undefined {
    return this.owners[id];
  }

  /** Authenticator of the last packet freed from (or replaced on) `id`. */
  retired(id: number): Buffer | undefined {
    return this.retiredAuth[id];
  }

  /** Takes one ID out of the free list for good (e.g. for status checks); undefined when none is free. */
  reserve(): number | undefined {
    return this.count === 0 ? undefined : this.take();
  }

  /**
   * Puts `t` (or nothing) on a {@link reserve}d ID. A different previous owner is retired (its
   * authenticator remembered); the free list is not touched.
   */
  assign(id: number, t: T | undefined): void {
    const cur = this.owners[id];
    if (cur === t) return;
    if (cur) { this.retiredAuth[id] = cur.auth; this.used--; }
    if (t) this.used++;
    this.owners[id] = t;
  }

  private take(): number {
    const id = this.ring[this.head];
    this.head = (this.head + 1) & 0xff;
    this.count--;
    return id;
  }
}
