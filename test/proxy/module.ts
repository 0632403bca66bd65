/**
 * In-process helpers for the proxy tests: build a `radius` module instance from config
 * text, call it like the interpreter does (with `dup`/`cancel` signals), and watch its
 * connection states through its log lines and `stats()`.
 */
import 'reflect-metadata';
import type { CallSignal } from '../../core/unlang/module-call';
import type { Rcode } from '../../core/request/rcode';
import { PacketCode } from '../../core/protocol/radius';
import { RadiusConfig } from '../../modules/radius/config';
import { Radius } from '../../modules/radius/radius';
import { callCtx, makeRequest, memoryLogger, instantiateCtx, parseModuleConfig } from '../support/module-call';

/** A state change seen in the module's log. */
export interface Transition {
  conn: number;
  from: string;
  to: string;
  reason: string;
  t: number;
}

/** A module instance under test. */
export interface Instance {
  readonly m: Radius;
  readonly lines: string[];
  /** State changes parsed from the log, in order. */
  transitions(): Transition[];
  /** `from->to` strings of every transition (all connections), in order. */
  path(): string[];
  /** Resolves when `pred(stats)` is true (polls every 5 ms), rejects after `ms`. */
  until(pred: (s: ReturnType<Radius['stats']>) => boolean, ms?: number, what?: string): Promise<number>;
  /** Calls the module; `opts.dupAfter` fires `dup` after that many ms, `cancelAfter` aborts. */
  call(pairs: string, opts?: { code?: number; dupAfter?: number[]; cancelAfter?: number }): Promise<{ rc: Rcode; ms: number; reply: string[] }>;
  detach(): void;
}

const TRANSITION = /^info: connection (\d+) \(.*?\): (\w+) -> (\w+) \((.*)\)$/;

/** Builds and instantiates `radius NAME { body }`. */
export function instance(body: string, name = 'home'): Instance {
  const log = memoryLogger();
  const stamps: number[] = [];
  const push = log.lines.push.bind(log.lines);
  log.lines.push = (...items: string[]) => { for (let i = 0; i < items.length; i++) stamps.push(Date.now()); return push(...items); };
  const cfg = parseModuleConfig(RadiusConfig, body, name);
  const m = new Radius(cfg, log, name);
  m.instantiate(instantiateCtx(name, log));
  const transitions = (): Transition[] => {
    const out: Transition[] = [];
    log.lines.forEach((l, i) => {
      const x = TRANSITION.exec(l);
      if (x) out.push({ conn: Number(x[1]), from: x[2], to: x[3], reason: x[4], t: stamps[i] });
    });
    return out;
  };
  return {
    m,
    lines: log.lines,
    transitions,
    path: () => transitions().map((t) => `${t.from}->${t.to}`),
    until(pred, ms = 5000, what = 'condition') {
      const t0 = Date.now();
      return new Promise((resolve, reject) => {
        const tick = (): void => {
          if (pred(m.stats())) return resolve(Date.now() - t0);
          if (Date.now() - t0 > ms) return reject(new Error(`timeout waiting for ${what}: ${JSON.stringify(m.stats())}\n${log.lines.slice(-20).join('\n')}`));
          setTimeout(tick, 5);
        };
        tick();
      });
    },
    async call(pairs, opts = {}) {
      const code = opts.code ?? PacketCode.AccessRequest;
      const req = makeRequest(pairs, { code });
      const ac = new AbortController();
      const ctx = callCtx(req, { name1: 'recv', name2: code === PacketCode.AccessRequest ? 'Access-Request' : 'Accounting-Request' }, { signal: ac.signal, instance: name });
      const t0 = Date.now();
      const timers: NodeJS.Timeout[] = [];
      for (const d of opts.dupAfter ?? []) timers.push(setTimeout(() => ctx.fire('dup' as CallSignal), d));
      if (opts.cancelAfter !== undefined) timers.push(setTimeout(() => { ac.abort(); ctx.fire('cancel'); }, opts.cancelAfter));
      const rc = await m.send(req, ctx);
      for (const t of timers) clearTimeout(t);
      return { rc, ms: Date.now() - t0, reply: req.reply.map((p) => `${p.da.name}=${String(p.value)}`) };
    },
    detach: () => m.detach(),
  };
}

/**
 * The body of a proxy-mode instance aimed at `port`, with short timers; `extra` is appended.
 * `statusMrd`: the status checks give up after this long (max_rtx_time 1 s; 10 transmissions ≈ 6.5 s) instead of 0.6 s.
 */
export function proxyBody(port: number, extra = '', o: { statusCheck?: boolean; pool?: string; rw?: string; statusMrd?: string } = {}): string {
  return `
mode = proxy
transport = udp
type = Access-Request
type = Accounting-Request
response_window = ${o.rw ?? '300ms'}
zombie_period = 400ms
revive_interval = 600ms
require_message_authenticator = auto
${o.statusCheck === false ? '' : `status_check {
	type = Status-Server
	num_answers_to_alive = 2
}`}
Status-Server {
	initial_rtx_time = 50ms
	max_rtx_time = ${o.statusMrd ? '1s' : '100ms'}
	max_rtx_count = 10
	max_rtx_duration = ${o.statusMrd ?? '600ms'}
}
udp {
	ipaddr = 127.0.0.1
	port = ${port}
	secret = testing123
}
pool {
	${o.pool ?? 'start = 1\n\tmin = 1\n\tmax = 1'}
	reconnect_delay = 100ms
}
${extra}
`;
}

/** Promise-based sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
