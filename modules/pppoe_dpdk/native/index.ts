/**
 * Raw Ethernet for the data plane: our own AF_PACKET addon (src/packet.c), built by `npm run build:native`
 * (scripts/build-native.js) and loaded in each lcore worker thread. Every call is synchronous and non-blocking:
 * the lcore polls its socket in its own loop, like a DPDK poll-mode driver. There is no fallback: a wire needs
 * the addon, and `openPacket` says exactly why it is unavailable (not built, no compiler, not Linux, no
 * CAP_NET_RAW).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Addon {
  open(ifname: string, opts: object): object;
  info(h: object): { ifindex: number; fd: number; mac: Buffer };
  recv(h: object, buffer: Uint8Array, slotSize: number, lengths: Uint32Array, max: number): number;
  send(h: object, buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): number;
  wait(h: object, ms: number, wakeFd?: number): number;
  close(h: object): void;
  wakeFd(): number;
  wake(fd: number): void;
  closeWakeFd(fd: number): void;
}

export interface PacketOptions {
  /** PACKET_FANOUT group id (1–65535): several sockets (one per lcore) share the interface's frames. */
  fanout?: number;
  /** 0 = by flow hash (default), 1 = round robin, 2 = by CPU. */
  fanoutMode?: number;
  rcvbuf?: number;
  sndbuf?: number;
}

/** An AF_PACKET socket bound to one interface. */
export interface PacketSocket {
  readonly ifname: string;
  readonly ifindex: number;
  readonly mac: Uint8Array;
  /** Receives up to `max` frames into `buffer` (frame i at i × slotSize); returns the count or −errno. */
  recv(buffer: Uint8Array, slotSize: number, lengths: Uint32Array, max: number): number;
  /** Sends `count` frames (`buffer[offsets[i] … + lengths[i]]`); returns how many went out or −errno. */
  send(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): number;
  /**
   * Blocks up to `ms` for a frame (the idle back-off), or until `wakeFd` (from `wakeFd()`) is written; true when
   * either happened.
   */
  wait(ms: number, wakeFd?: number): boolean;
  close(): void;
}

/** Where node-gyp puts the addon (beside binding.gyp in the source tree, also when running from dist/). */
export function packetAddonPath(): string {
  const here = __dirname;
  const src = here.includes(`${path.sep}dist${path.sep}`) ? here.replace(`${path.sep}dist${path.sep}`, path.sep) : here;
  return path.join(src, 'build', 'Release', 'tsradius_packet.node');
}

let addon: Addon | undefined;

function load(): Addon {
  if (addon) return addon;
  if (process.platform !== 'linux') throw new Error('pppoe_dpdk wire: AF_PACKET needs Linux');
  const file = packetAddonPath();
  if (!fs.existsSync(file)) {
    throw new Error(`pppoe_dpdk wire: the raw Ethernet addon is not built (${file}); run \`npm run build:native\` (needs g++, make, python3 and the Node headers)`);
  }
  addon = require(file) as Addon;
  return addon;
}

/** Opens a raw socket on `ifname` (throws with the reason when it cannot). */
export function openPacket(ifname: string, opts: PacketOptions = {}): PacketSocket {
  const a = load();
  const h = a.open(ifname, opts);
  const i = a.info(h);
  return {
    ifname,
    ifindex: i.ifindex,
    mac: new Uint8Array(i.mac),
    recv: (buffer, slotSize, lengths, max) => a.recv(h, buffer, slotSize, lengths, max),
    send: (buffer, offsets, lengths, count) => a.send(h, buffer, offsets, lengths, count),
    wait: (ms, wakeFd) => a.wait(h, ms, wakeFd) === 1,
    close: () => a.close(h),
  };
}

/**
 * An eventfd that ends another thread's `PacketSocket.wait(ms, fd)` at once when written (`wake`). The creator owns
 * it: the control plane makes one per wire lcore, rings it after publishing answers to a sleeping lcore, and closes
 * it only once that worker has exited (so a write never reaches a reused descriptor).
 */
export function wakeFd(): number {
  return load().wakeFd();
}

export function wake(fd: number): void {
  addon!.wake(fd);
}

export function closeWakeFd(fd: number): void {
  addon?.closeWakeFd(fd);
}
