/**
 * The `kvlookup` instance: looks up the request's User-Name on a key/value server and puts the
 * value into `reply.Reply-Message`. It shows the parts of core a backend module needs:
 *
 * - a connection pool from the `TRUNKS` factory (core/trunk): one `TrunkConnection` subclass
 *   owns the socket and matches answers to requests; a `HealthCheck` hook probes new and
 *   suspect connections; while the server is down, calls fail at once (fail fast);
 * - counters in the `METRICS` registry (core/metrics), bound to their labels once;
 * - typed attribute handles (`defineDict`, injected as `MODULE_DICT`).
 *
 * The protocol is one line each way: `GET <key>\n` → `VALUE <text>\n` or `NONE\n`, answered
 * in order.
 */
import * as net from 'node:net';
import {
  defineDict, escapeControls, getValue, inject, injectable, METRICS, MODULE_CONFIG, MODULE_DICT, MODULE_NAME, setValue,
  TRUNKS, TrunkConnection,
  type CallContext, type CounterChild, type DictHandles, type HealthCheck, type InstantiateContext, type MetricsRegistry,
  type ModuleInstance, type Rcode, type Request, type Trunk, type TrunkFactory, type Waiter,
} from '../../core';
import { parseServer, type KvlookupConfig } from './config';

/** The attributes kvlookup uses; the loader resolves them and injects the handles (`MODULE_DICT`). */
export const KV_DICT = defineDict({ userName: 'User-Name', replyMessage: 'Reply-Message' });

/** The key a health check asks for: any answer (`VALUE` or `NONE`) proves the server alive. */
const PROBE_KEY = '.health';
/** Lookups one connection carries at once before it is `full`. */
const PER_CONNECTION = 32;

/** A request on the wire. Answers come in order, so one that timed out stays queued until its late answer. */
interface Pending {
  readonly probe: boolean;
  /** Takes the answer line (`undefined`: the connection failed, see `why`). Cleared when abandoned. */
  done?: (answer: string | undefined, why: string) => void;
}

/** One TCP connection to the server: the socket and the answer/request matching. */
class KvConn extends TrunkConnection {
  readonly label: string;
  outstanding = 0;
  private socket?: net.Socket;
  private readonly pending: Pending[] = [];
  private buf = '';

  constructor(private readonly host: string, private readonly port: number) {
    super();
    this.label = `kv ${host}:${port} #${this.number}`;
  }

  connect(ready: () => void): void {
    const s = (this.socket = net.connect({ host: this.host, port: this.port }));
    s.setEncoding('utf8');
    s.setNoDelay(true);
    s.once('connect', ready);
    s.on('data', (d: string) => this.read(d));
    s.on('error', (e) => this.fail(e.message));
    s.on('close', () => this.fail('connection closed by the server'));
  }

  closeSocket(): void {
    this.socket?.removeAllListeners().on('error', () => undefined).destroy();
    this.socket = undefined;
    this.clearTimers();
  }

  failInflight(reason: string): void {
    for (const p of this.pending.splice(0)) p.done?.(undefined, reason);
    this.outstanding = 0;
  }

  /** Writes `GET key`; `done` gets the answer. */
  send(key: string, probe: boolean, done: Pending['done']): Pending {
    const p: Pending = { probe, done };
    this.pending.push(p);
    if (!probe) {
      this.lastSent = Date.now();
      if (++this.outstanding >= PER_CONNECTION) this.setState('full', `${this.outstanding} lookups outstanding`);
    }
    this.socket?.write(`GET ${key}\n`);
    return p;
  }

  /** The caller gave up on `p` (timeout, cancelled): its answer, when it comes, is late. */
  abandon(p: Pending): void {
    if (!p.done) return;
    p.done = undefined;
    if (!p.probe) this.lessOutstanding();
  }

  private lessOutstanding(): void {
    this.outstanding--;
    if (this.state === 'full') this.setState('active', 'capacity freed');
    this.events.freed(this);
  }

  private read(data: string): void {
    this.buf += data;
    for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      const p = this.pending.shift();
      if (!p) return this.fail('an answer nobody asked for');
      this.lastReply = Date.now();
      const done = p.done;
      if (done && !p.probe) this.lessOutstanding();
      done?.(line, '');
      this.events.answered(this, p.probe, !done);
    }
    if (this.buf.length > 65_536) this.fail('answer line too long');
  }
}

/** The module instance: one trunk per `kvlookup` section. */
@injectable()
export class Kvlookup implements ModuleInstance {
  /** The connection pool (read by the tests: `trunk.state()`, `trunk.counters`). */
  trunk!: Trunk<KvConn>;
  private readonly hit: CounterChild;
  private readonly miss: CounterChild;
  private readonly error: CounterChild;
  private readonly timeoutMs: number;

  // Constructors only store what they are given (and bind metric series): no I/O, no timers.
  constructor(
    @inject(MODULE_CONFIG) private readonly config: KvlookupConfig,
    @inject(MODULE_DICT) private readonly da: DictHandles<typeof KV_DICT>,
    @inject(MODULE_NAME) name: string,
    @inject(TRUNKS) private readonly trunks: TrunkFactory,
    @inject(METRICS) metrics: MetricsRegistry,
  ) {
    const lookups = metrics.counter({
      name: 'tsradius_kvlookup_lookups_total', help: 'kvlookup lookups by result.', labelNames: ['instance', 'result'],
    });
    this.hit = lookups.labels(name, 'hit');
    this.miss = lookups.labels(name, 'miss');
    this.error = lookups.labels(name, 'error');
    this.timeoutMs = config.timeout * 1000;
  }

  /** Opens the trunk; connections come up in the background (a lookup waits for one, up to `timeout`). */
  instantiate(ctx: InstantiateContext): void {
    const { host, port } = parseServer(this.config.server)!; // validate checked it
    const n = this.config.connections;
    this.trunk = this.trunks.create<KvConn>(
      { start: n, min: n, max: n, maxBacklog: 100, reconnectDelay: 1000, zombiePeriod: 40_000, reviveInterval: 120_000 },
      {
        create: () => new KvConn(host, port),
        perConnectionMax: PER_CONNECTION,
        health: this.health,
        onState: (c, from, to, reason) => ctx.log.info(`${c.label}: ${from} → ${to} (${reason})`),
      },
    );
    this.trunk.open();
  }

  /** Closes every connection; lookups in flight fail. */
  detach(): void {
    this.trunk?.close();
  }

  /** Health check: one `GET .health` per probe, answered within `timeout` or the connection is dead. */
  private readonly health: HealthCheck<KvConn> = {
    answersToAlive: 1,
    probe: (c) => {
      const t = this.trunk.deadline(this.timeoutMs, () => c.fail(`no answer to a health check in ${this.config.timeout}s`));
      c.timers.push(t);
      c.send(PROBE_KEY, true, () => this.trunk.cancel(t));
    },
    stop: () => undefined,
  };

  /** `recv Access-Request`: value found → `ok` and Reply-Message; none → `notfound`; server trouble → `fail`. */
  authorize(request: Request, ctx: CallContext): Rcode | Promise<Rcode> {
    const user = getValue(request.request, this.da.userName);
    if (typeof user !== 'string') return 'noop';
    if (/[\s\x00-\x1f\x7f]/.test(user)) {
      ctx.log.info(`User-Name "${escapeControls(user)}" cannot be a key`);
      return 'invalid';
    }
    return new Promise<Rcode>((resolve, reject) => {
      let open = true;
      let sent: { c: KvConn; p: Pending } | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (rc: () => Rcode): void => {
        if (!open) return;
        open = false;
        this.trunk.cancel(timer);
        this.trunk.unqueue(waiter);
        resolve(rc());
      };
      const waiter: Waiter<KvConn> = {
        start: (c) => {
          const firstSent = Date.now();
          const p = c.send(user, false, (answer, why) => finish(() => this.answer(request, ctx, answer, why)));
          sent = { c, p };
          timer = this.trunk.deadline(this.timeoutMs, () => {
            c.abandon(p);
            this.trunk.suspect(c, firstSent, this.timeoutMs, (since) => `no answer since ${since}`);
            finish(() => this.failed(ctx, `no answer in ${this.config.timeout}s`));
          });
        },
        fail: (why) => finish(() => this.failed(ctx, why)),
      };
      // Cancelled (max_request_time, `timeout` block): stop waiting; a late answer is dropped.
      ctx.signal.addEventListener('abort', () => {
        if (!open) return;
        open = false;
        this.trunk.cancel(timer);
        this.trunk.unqueue(waiter);
        if (sent) sent.c.abandon(sent.p);
        reject(new Error('cancelled'));
      }, { once: true });
      this.trunk.acquire(waiter, this.timeoutMs);
    });
  }

  private answer(request: Request, ctx: CallContext, answer: string | undefined, why: string): Rcode {
    if (answer === undefined) return this.failed(ctx, why);
    if (answer === 'NONE') {
      this.miss.inc();
      return 'notfound';
    }
    if (!answer.startsWith('VALUE ')) return this.failed(ctx, `unexpected answer "${escapeControls(answer)}"`);
    this.hit.inc();
    setValue(request.reply, this.da.replyMessage, answer.slice('VALUE '.length));
    return 'ok';
  }

  private failed(ctx: CallContext, why: string): Rcode {
    this.error.inc();
    ctx.log.warn(`lookup failed: ${why}`);
    return 'fail';
  }
}
