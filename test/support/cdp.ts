/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven over the DevTools protocol, for tests
 * that look at a page as a person would: navigate, evaluate script (click buttons, read the DOM),
 * take screenshots. A minimal WebSocket client (RFC 6455, client frames masked) carries the
 * protocol; nothing is downloaded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Socket } from 'node:net';
import * as zlib from 'node:zlib';

export const CHROMIUM = '/usr/bin/chromium';

/** A minimal WebSocket connection (text frames). */
class Ws {
  private buf = Buffer.alloc(0);
  private parts: Buffer[] = [];
  onMessage: (text: string) => void = () => undefined;

  constructor(private readonly sock: Socket, head: Buffer) {
    sock.on('data', (d: Buffer) => this.feed(d));
    if (head.length) this.feed(head);
  }

  static open(url: string): Promise<Ws> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: u.hostname, port: u.port, path: u.pathname + u.search,
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64') },
      });
      req.on('upgrade', (_res, sock, head) => resolve(new Ws(sock as Socket, head)));
      req.on('error', reject);
      req.end();
    });
  }

  send(text: string): void {
    const payload = Buffer.from(text, 'utf8');
    const n = payload.length;
    const hdr = n < 126 ? Buffer.from([0x81, 0x80 | n]) : n < 65536 ? Buffer.from([0x81, 0x80 | 126, n >> 8, n & 255]) : (() => {
      const b = Buffer.alloc(10); b[0] = 0x81; b[1] = 0x80 | 127; b.writeBigUInt64BE(BigInt(n), 2); return b;
    })();
    const mask = crypto.randomBytes(4);
    for (let i = 0; i < n; i++) payload[i] ^= mask[i & 3];
    this.sock.write(Buffer.concat([hdr, mask, payload]));
  }

  close(): void {
    this.sock.destroy();
  }

  private feed(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const fin = (this.buf[0] & 0x80) !== 0;
      const op = this.buf[0] & 0x0f;
      let len = this.buf[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (this.buf.length < 4) return; len = this.buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (this.buf.length < 10) return; len = Number(this.buf.readBigUInt64BE(2)); off = 10; }
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      if (op === 0x8) { this.sock.end(); return; }
      if (op === 0x9 || op === 0xa) continue;
      this.parts.push(Buffer.from(payload));
      if (fin) {
        const text = Buffer.concat(this.parts).toString('utf8');
        this.parts = [];
        this.onMessage(text);
      }
    }
  }
}

/** One browser with one page. */
export class Browser {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  private constructor(private readonly proc: ChildProcess, private readonly ws: Ws, private readonly dataDir: string) {
    ws.onMessage = (text) => {
      const m = JSON.parse(text) as { id?: number; result?: unknown; error?: { message: string } };
      if (m.id === undefined) return;
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error) w.reject(new Error(m.error.message)); else w.resolve(m.result);
    };
  }

  /** Starts Chromium headless with a window of `width`×`height`. */
  static async launch(width = 1400, height = 1000): Promise<Browser> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-chromium-'));
    const proc = spawn(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
      '--disable-dev-shm-usage', `--window-size=${width},${height}`, `--user-data-dir=${dataDir}`, '--remote-debugging-port=0', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    const port = await new Promise<number>((resolve, reject) => {
      let err = '';
      const t = setTimeout(() => reject(new Error(`chromium did not start: ${err}`)), 30_000);
      proc.stderr!.on('data', (d) => {
        err += d;
        const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(err);
        if (m) { clearTimeout(t); resolve(Number(m[1])); }
      });
      proc.on('exit', (c) => { clearTimeout(t); reject(new Error(`chromium exited ${c}: ${err}`)); });
    });
    const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as { type: string; webSocketDebuggerUrl: string }[];
    const page = list.find((t) => t.type === 'page');
    if (!page) throw new Error('chromium: no page target');
    const ws = await Ws.open(page.webSocketDebuggerUrl);
    const b = new Browser(proc, ws, dataDir);
    await b.send('Page.enable');
    await b.send('Runtime.enable');
    await b.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    return b;
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async navigate(url: string): Promise<void> {
    await this.send('Page.navigate', { url });
  }

  /** Evaluates an expression in the page and returns its value (promises awaited). */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Polls an expression until it is truthy. */
  async waitFor(expression: string, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await this.eval<boolean>(`!!(${expression})`)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`page: timed out waiting for ${expression}`);
  }

  /** A PNG screenshot of the viewport. */
  async screenshot(): Promise<Buffer> {
    const r = await this.send('Page.captureScreenshot', { format: 'png' });
    return Buffer.from(r.data as string, 'base64');
  }

  async close(): Promise<void> {
    this.ws.close();
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A decoded 8-bit RGB/RGBA PNG (non-interlaced, as Chromium writes them). */
export interface Png { width: number; height: number; pixel(x: number, y: number): [number, number, number] }

/** Decodes a PNG enough to read pixels (8-bit truecolour, with or without alpha). */
export function decodePng(buf: Buffer): Png {
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let off = 8;
  let width = 0, height = 0, ctype = 0, depth = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); depth = data[8]; ctype = data[9]; }
    else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  if (depth !== 8 || (ctype !== 2 && ctype !== 6)) throw new Error(`PNG colour type ${ctype} depth ${depth} not handled`);
  const bpp = ctype === 6 ? 4 : 3;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[y * stride + x - bpp] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp] : 0;
      let v = line[x];
      if (f === 1) v += a; else if (f === 2) v += b; else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) { const p = a + b - c; const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      out[y * stride + x] = v & 255;
    }
  }
  return { width, height, pixel: (x, y) => { const i = y * stride + x * bpp; return [out[i], out[i + 1], out[i + 2]]; } };
}
