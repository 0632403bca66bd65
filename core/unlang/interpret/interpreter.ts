/**
 * The unlang interpreter: runs a compiled section for one request on an
 * explicit frame stack.
 *
 * CONTRACT
 * - One {@link Execution} per request and section. `start()` runs synchronously
 *   until the section finishes or something yields; it MUST NOT create a Promise
 *   unless a module method or xlat function returned one.
 * - A frame runs a sibling list ("horizontal"); an instruction that has a body
 *   pushes a frame and is resumed when that frame pops ("vertical"). Control
 *   flow (`return`, `break`, `continue`, cancellation) marks frames for unwind;
 *   unwound frames are popped without running anything. There is no JavaScript
 *   recursion per instruction.
 * - Results merge by the FreeRADIUS rules: the instruction's action for the
 *   rcode is `return` (leave the frame with it), `reject`, `retry`, or a
 *   priority that replaces the frame's result when ≥ the current one. A popped
 *   frame's result is merged again in the parent with the parent instruction's
 *   actions.
 * - Signals: `cancel` unwinds everything (max_request_time, shutdown); a
 *   `timeout` block cancels only the frames above it; `dup` is passed to the
 *   yielded call. A yielded call sees them through its `AbortSignal` and
 *   `onSignal` handlers.
 */

import type { TimerHandle } from '../../clock/clock';
import type { DictAttr } from '../../dict/attr';
import { Pair } from '../../pair/pair';
import { copyPair } from '../../pair/list';
import type { CallContext, CallSignal, SectionName, MapResult, MapRows } from '../module-call';
import type { Rcode } from '../../request/rcode';
import type { Request } from '../../request/request';
import type { RequestLog } from '../../request/request-log';
import { A, R, RCODE_NAMES, actionName, rcodeFromName } from '../rcode';
import type { Block, CompiledSection, Expr, Instr, MapEntry } from '../compile/types';
import { caseKey } from '../compile/keywords/switch';
import { type Box, type ValueEscape, BoxError, box, boxToString, castBox, compareBoxes, escapeBoxes } from '../xlat/box';
import { type EvalContext, XlatFailed, XlatYield, evalCond, failureMessage, evalExpr, pairBox, resolvePairs } from '../xlat/eval';
import type { XlatInterpreterView } from '../xlat/registry';
import { applyEdit, type LockSet } from './edit';
import { REDACTED, isSecretAttr } from '../../pair/redact';

/** A value for the debug trace: secrets (User-Password, Password.Cleartext …) never appear. */
const NOOP = (): void => undefined;

/** A stack frame of this file (where a module's stack trace stops being the module's). */
const INTERPRETER_FRAME = /[\\/]unlang[\\/]interpret[\\/]interpreter\.[jt]s:/;

function traceBox(b: Box): string {
  return b.da && isSecretAttr(b.da) ? REDACTED : boxToString(b);
}

/** Frame flags. */
const enum F {
  RETURN_POINT = 1, BREAK_POINT = 2, CONTINUE_POINT = 4, UNWIND = 8, TOP = 16,
  BROKE = 32, CONTINUED = 64, TIMED_OUT = 128,
}

/** What an instruction did. */
const enum Act { CALC = 0, NEXT = 1, PUSHED = 2, YIELD = 3 }

/** Frames of finished executions, reused by new ones (saves allocation and GC). */
const FRAME_POOL: Frame[] = [];
const EMPTY: readonly Instr[] = [];

/** Most runs of one instruction under `retry` when no max_rtx_count/max_rtx_duration is given. */
const RETRY_CAP = 1000;
/** The priority at which a failed `if` condition without an `else` merges its rcode fail (see `if`). */
const COND_FAIL_PRIO = A.PRIORITY | 1;

/** Maximum frame depth (FreeRADIUS uses 64 per stack; nested policies need a little more here). */
export const STACK_MAX = 256;

/** One frame of the explicit stack. */
class Frame {
  list: readonly Instr[] = [];
  pc = 0;
  rcode = 0;
  prio = 0;
  flags = 0;
  /** Instruction whose actions apply to the child result (an `else` branch differs from list[pc]). */
  cur: Instr | undefined;
  locals: readonly DictAttr[] | undefined;
  /** Per-instruction state of list[pc] while it has a child frame (loop counters …). */
  state: unknown;
  /** Called when the frame is popped, normally or by unwinding. */
  cleanup: ((f: Frame) => void) | undefined;
  /** Absolute deadline (ms) of a `timeout` body frame. */
  deadline = 0;
  timer: TimerHandle | undefined;
  /** Child chosen by the `load-balance` that pushed this frame. */
  lbChild = -1;
  /** Retry bookkeeping for list[pc]. */
  retryIns: Instr | undefined;
  retryCount = 0;
  retryStart = 0;
  /** Incremented on every reuse (timers check it). */
  gen = 0;
}

/**
 * The log of one module call: lines carry a `name: ` prefix. The same as `RequestLog.child`, as a
 * class, so that the per-call object costs one allocation instead of a set of closures.
 */
class CallLog implements RequestLog {
  constructor(private readonly parent: RequestLog, private readonly name: string) {}
  get debugEnabled(): boolean { return this.parent.debugEnabled; }
  debug(m: string): void { if (this.parent.debugEnabled) this.parent.debug(`${this.name}: ${m}`); }
  info(m: string): void { this.parent.info(`${this.name}: ${m}`); }
  warn(m: string): void { this.parent.warn(`${this.name}: ${m}`); }
  error(m: string): void { this.parent.error(`${this.name}: ${m}`); }
  child(n: string): RequestLog { return new CallLog(this.parent, `${this.name}: ${n}`); }
}

/** A call that is waiting for a Promise. */
class ModuleCall implements CallContext {
  private ac: AbortController | undefined;
  private handlers: ((s: CallSignal) => void)[] | undefined;
  private childLog: RequestLog | undefined;
  cancelled = false;
  /** Depth of the frame that made the call. */
  depth = 0;
  readonly env = undefined;

  constructor(
    readonly instance: string,
    readonly method: string | undefined,
    readonly section: SectionName,
    private readonly reqLog: RequestLog,
  ) {}

  get signal(): AbortSignal {
    this.ac ??= new AbortController();
    return this.ac.signal;
  }

  get log(): RequestLog {
    // Built once per call: modules read ctx.log on every call (to test debugEnabled).
    return (this.childLog ??= new CallLog(this.reqLog, this.instance));
  }

  onSignal(fn: (s: CallSignal) => void): void {
    (this.handlers ??= []).push(fn);
  }

  deliver(s: CallSignal): void {
    if (this.cancelled) return;
    if (s === 'cancel') {
      this.cancelled = true;
      this.ac?.abort(new Error('cancelled'));
    }
    if (this.handlers) for (const h of this.handlers) {
      try { h(s); } catch { /* a handler must not break the interpreter */ }
    }
  }
}

/** Options for running a section. */
export interface ExecutionOptions {
  /** Cancel the request after this many seconds (max_request_time). */
  maxRequestTime?: number;
  /** Set for the body of a `subrequest`: what `detach` calls (the parent stops waiting). */
  onDetach?: () => void;
  /** Start with the request's current rcode instead of `noop` (a `finally` section tests the previous one). */
  keepRcode?: boolean;
}

/** Most nested `call`s of one request (a server calling itself ends here with `fail`). */
export const CALL_MAX = 16;
const callDepth = new WeakMap<Request, number>();

const SECTION_NONE: SectionName = { name1: 'unlang' };

/**
 * Runs one compiled section for one request. Create it, call `start()`; if it
 * returns undefined the request yielded and `promise` settles with the result.
 */
export class Execution implements XlatInterpreterView {
  private readonly frames: Frame[] = [];
  private depth = 0;
  private result = 0;
  private readonly ectx: EvalContext;
  private readonly debug: boolean;
  private yielded: ModuleCall | undefined;
  private xlatCall: { promise: Promise<Box[]>; node: import('../compile/types').Expr; cancelled: boolean; ac: AbortController } | undefined;
  private memo: Map<import('../compile/types').Expr, Box[] | XlatFailed> | undefined;
  private finalRcode: Rcode | undefined;
  private resolve: ((r: Rcode) => void) | undefined;
  private _promise: Promise<Rcode> | undefined;
  private maxTimer: TimerHandle | undefined;
  private locks: LockSet | undefined;
  private ac: AbortController | undefined;
  /** True once the section has finished. */
  done = false;

  constructor(
    readonly section: CompiledSection,
    readonly request: Request,
    private readonly opts: ExecutionOptions = {},
  ) {
    this.debug = request.log.debugEnabled;
    this.ectx = new ExecEvalContext(this, request);
  }

  /** The AbortSignal handed to xlat functions (created on first use). */
  xlatSignal(): AbortSignal {
    return (this.ac ??= new AbortController()).signal;
  }

  /** Settles with the section's rcode (created on first use, i.e. only when someone waits). */
  get promise(): Promise<Rcode> {
    if (this.done) return Promise.resolve(this.finalRcode!);
    this._promise ??= new Promise<Rcode>((res) => { this.resolve = res; });
    return this._promise;
  }

  /** The final rcode, once done. */
  get rcode(): Rcode | undefined {
    return this.finalRcode;
  }

  /**
   * Starts the section. Returns the rcode when it finished synchronously, or
   * undefined when it yielded (then use `promise`).
   */
  start(): Rcode | undefined {
    const req = this.request;
    if (!this.opts.keepRcode) req.rcode = 'noop';
    const sec = this.section;
    if (this.debug) req.log.debug(`${sec.name1}${sec.name2 ? ' ' + sec.name2 : ''} { # from ${sec.loc.file}[${sec.loc.line}]`);
    const f = this.push(sec.body, F.TOP | F.RETURN_POINT);
    void f;
    if (this.opts.maxRequestTime && this.opts.maxRequestTime > 0) {
      // Only armed when asked for; cleared when done.
      this.maxTimer = this.request.clock.setTimeout(() => this.signal('cancel'), this.opts.maxRequestTime * 1000);
    }
    this.run();
    return this.done ? this.finalRcode : undefined;
  }

  /** Delivers a signal: `dup` to the yielded call, `cancel` to everything. */
  signal(s: CallSignal): void {
    if (this.done) return;
    if (s === 'dup') {
      this.yielded?.deliver('dup');
      return;
    }
    this.request.cancelled = true;
    this.cancelFrom(0);
    this.run();
  }

  // ------------------------------------------------------------ introspection

  loadBalanceChild(): number | undefined {
    for (let d = this.depth - 1; d >= 0; d--) if (this.frames[d].lbChild >= 0) return this.frames[d].lbChild;
    return undefined;
  }

  location(caller = false): { file: string; line: number } | undefined {
    if (caller) {
      // The instruction that called the innermost policy.
      for (let d = this.depth - 1; d > 0; d--) {
        if ((this.frames[d].flags & (F.RETURN_POINT | F.TOP)) === F.RETURN_POINT) {
          const p = this.frames[d - 1];
          const ins = p.cur ?? p.list[p.pc];
          if (ins) return ins.loc;
        }
      }
    }
    for (let d = this.depth - 1; d >= 0; d--) {
      const f = this.frames[d];
      const ins = f.cur ?? f.list[f.pc];
      if (ins) return ins.loc;
    }
    return undefined;
  }

  // ------------------------------------------------------------ stack

  private push(block: Block, flags: number): Frame {
    if (this.depth >= STACK_MAX) throw new BoxError(`Stack overflow (more than ${STACK_MAX} nested frames)`);
    let f = this.frames[this.depth];
    if (!f) { f = FRAME_POOL.pop() ?? new Frame(); this.frames[this.depth] = f; }
    this.depth++;
    f.gen++;
    f.list = block.children;
    f.pc = 0;
    f.rcode = 0;
    f.prio = 0;
    f.flags = flags;
    f.cur = undefined;
    f.state = undefined;
    f.cleanup = undefined;
    f.deadline = 0;
    f.timer = undefined;
    f.lbChild = -1;
    f.retryIns = undefined;
    f.locals = block.locals;
    if (block.locals) this.clearLocals(block.locals);
    return f;
  }

  private pushList(list: readonly Instr[], flags: number): Frame {
    return this.push({ children: list }, flags);
  }

  private clearLocals(locals: readonly DictAttr[]): void {
    const l = this.request.local;
    if (l.length === 0) return;
    let w = 0;
    for (let r = 0; r < l.length; r++) if (!locals.includes(l[r].da)) l[w++] = l[r];
    l.length = w;
  }

  /** Marks frames at depth ≥ `from` for unwinding and cancels a yielded call among them. */
  private cancelFrom(from: number): void {
    for (let d = from; d < this.depth; d++) this.frames[d].flags |= F.UNWIND;
    if (this.yielded && this.yielded.depth >= from) {
      const c = this.yielded;
      this.yielded = undefined;
      c.deliver('cancel');
    }
    if (this.xlatCall) {
      this.xlatCall.cancelled = true;
      this.xlatCall.ac.abort(new Error('cancelled'));
      this.ac = undefined;
      this.xlatCall = undefined;
    }
    this.memo = undefined;
  }

  // ------------------------------------------------------------ main loop

  private run(): void {
    if (this.yielded || this.xlatCall) return;
    for (;;) {
      if (this.depth === 0) { this.finish(); return; }
      const f = this.frames[this.depth - 1];
      if ((f.flags & F.UNWIND) !== 0 || f.pc >= f.list.length) {
        if (this.pop()) continue;
        return;
      }
      const ins = f.list[f.pc];
      f.cur = ins;
      let act: Act;
      try {
        act = this.exec(ins, f);
      } catch (e) {
        act = this.execError(e, ins, f);
      }
      if (act === Act.YIELD) { this.armTimers(); return; }
      this.memo = undefined;
      this.after(act, f, ins);
    }
  }

  private execError(e: unknown, ins: Instr, f: Frame): Act {
    if (e instanceof XlatYield) {
      const ac = (this.ac ??= new AbortController());
      const call = { promise: e.promise, node: e.node, cancelled: false, ac };
      this.xlatCall = call;
      void f;
      e.promise.then(
        (v) => this.xlatResumed(call, v),
        (err) => this.xlatResumed(call, undefined, err),
      );
      return Act.YIELD;
    }
    const msg = e instanceof Error ? e.message : String(e);
    this.request.log.error(`${ins.loc.file}[${ins.loc.line}]: ${ins.name}: ${msg}`);
    this.result = R.FAIL;
    return Act.CALC;
  }

  private xlatResumed(call: { cancelled: boolean; node: import('../compile/types').Expr }, v: Box[] | undefined, err?: unknown): void {
    if (call.cancelled || this.xlatCall !== call) return;
    this.xlatCall = undefined;
    this.ac = undefined;
    const f = this.frames[this.depth - 1];
    const ins = f.list[f.pc];
    if (err !== undefined || !v) {
      const fn = call.node.k === 'call' ? call.node.name : undefined;
      if (fn && err !== undefined) failureMessage(this.ectx, err);
      if (ins.k === 'if' && fn && err !== undefined) {
        // A condition decides for itself what its failure means: replay it with the failure
        // in the memo, so the call throws again, synchronously this time.
        (this.memo ??= new Map()).set(call.node, new XlatFailed(fn, err));
        this.ectx.memo = this.memo;
        this.run();
        return;
      }
      this.memo = undefined;
      const why = err instanceof Error ? err.message : String(err);
      this.request.log.error(`${ins.loc.file}[${ins.loc.line}]: ${ins.name}: ${fn ? `%${fn}() failed: ${why}` : why}`);
      this.result = R.FAIL;
      this.after(Act.CALC, f, ins);
    } else {
      (this.memo ??= new Map()).set(call.node, v);
      this.ectx.memo = this.memo;
    }
    this.run();
  }

  /** Applies an instruction's outcome to its frame. */
  private after(act: Act, f: Frame, ins: Instr): void {
    this.ectx.memo = undefined;
    if (act === Act.CALC) this.calc(f, f.cur ?? ins, this.result);
    else if (act === Act.NEXT) this.next(f);
  }

  private next(f: Frame): void {
    f.pc++;
    f.cur = undefined;
  }

  /** The merge rule (FreeRADIUS `result_calculate`). */
  private calc(f: Frame, ins: Instr, r: number): void {
    if (r === R.NOT_SET) { this.next(f); return; }
    const a = ins.actions[r];
    if (this.debug && ((ins.k !== 'module' && ins.k !== 'rcode') || a === A.RETURN || a === A.REJECT)) {
      this.request.log.debug(`${'  '.repeat(this.depth)}# ${ins.name} (${RCODE_NAMES[r]}) → ${actionName(a)}`);
    }
    switch (a) {
      case A.RETURN:
        f.rcode = r;
        f.pc = f.list.length;
        return;
      case A.REJECT:
        f.rcode = R.REJECT;
        f.pc = f.list.length;
        return;
      case A.RETRY: {
        const rc = ins.retry;
        if (f.retryIns !== ins) { f.retryIns = ins; f.retryCount = 0; f.retryStart = this.request.clock.now(); }
        f.retryCount++;
        // Without limits a synchronous retry would spin forever: cap it.
        const max = rc ? (rc.maxRtxCount || (rc.maxRtxDuration ? Infinity : RETRY_CAP)) : 1;
        const countOk = f.retryCount < max;
        const timeOk = !rc || rc.maxRtxDuration === 0 || this.request.clock.now() - f.retryStart < rc.maxRtxDuration * 1000;
        if (countOk && timeOk) { f.cur = undefined; return; } // run the same instruction again
        f.retryIns = undefined;
        if (A.PRIORITY + 1 >= f.prio) { f.rcode = r; f.prio = A.PRIORITY + 1; }
        this.next(f);
        return;
      }
      default:
        if (a >= f.prio) { f.rcode = r; f.prio = a; }
        this.next(f);
    }
  }

  /** Pops the top frame and resumes its owner. Returns false when the run must stop (yield or done). */
  private pop(): boolean {
    const f = this.frames[--this.depth];
    if (f.cleanup) { const c = f.cleanup; f.cleanup = undefined; c(f); }
    if (f.locals) this.clearLocals(f.locals);
    if (f.timer) { this.request.clock.clearTimeout(f.timer); f.timer = undefined; }
    if (this.depth === 0) {
      this.result = f.rcode;
      this.finish();
      return false;
    }
    const parent = this.frames[this.depth - 1];
    if ((parent.flags & F.UNWIND) !== 0) {
      if (f.rcode) parent.rcode = f.rcode;
      return true;
    }
    const ins = parent.cur ?? parent.list[parent.pc];
    let act: Act;
    try {
      act = this.resume(ins, parent, f);
    } catch (e) {
      act = this.execError(e, ins, parent);
    }
    if (act === Act.YIELD) { this.armTimers(); return false; }
    this.after(act, parent, ins);
    return true;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.maxTimer) this.request.clock.clearTimeout(this.maxTimer);
    const top = this.frames[0];
    const r = this.depth === 0 && top ? top.rcode : 0;
    this.finalRcode = (r ? RCODE_NAMES[r] : 'noop') as Rcode;
    if (this.request.cancelled) this.finalRcode = 'fail';
    if (this.debug) this.request.log.debug(`} # ${this.section.name1}${this.section.name2 ? ' ' + this.section.name2 : ''} (${this.finalRcode})`);
    this.locks = undefined;
    // Give the frames back to the shared pool.
    for (const f of this.frames) { f.list = EMPTY; f.state = undefined; f.cur = undefined; f.cleanup = undefined; f.locals = undefined; if (FRAME_POOL.length < 4096) FRAME_POOL.push(f); }
    this.frames.length = 0;
    if (this.resolve) this.resolve(this.finalRcode);
  }

  // ------------------------------------------------------------ timers

  /** Arms the timers of `timeout` frames on the stack (only when a request actually yields). */
  private armTimers(): void {
    const clock = this.request.clock;
    const now = clock.now();
    for (let d = 0; d < this.depth; d++) {
      const f = this.frames[d];
      if (f.deadline && !f.timer) {
        const gen = f.gen;
        f.timer = clock.setTimeout(() => this.timeoutFired(f, gen, d), Math.max(0, f.deadline - now));
      }
    }
  }

  private timeoutFired(f: Frame, gen: number, depth: number): void {
    f.timer = undefined;
    if (this.done || f.gen !== gen || depth >= this.depth || this.frames[depth] !== f) return;
    if (this.debug) this.request.log.debug(`${'  '.repeat(depth)}timeout expired, cancelling`);
    f.flags |= F.TIMED_OUT;
    this.cancelFrom(depth);
    this.run();
  }

  // ------------------------------------------------------------ instructions

  private rcodeSet(r: number): void {
    if (r) this.request.rcode = RCODE_NAMES[r] as Rcode;
  }

  private exec(ins: Instr, f: Frame): Act {
    const req = this.request;
    switch (ins.k) {
      case 'rcode':
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.name} (${RCODE_NAMES[ins.r]})`);
        this.result = ins.r;
        req.rcode = RCODE_NAMES[ins.r] as Rcode;
        return Act.CALC;

      case 'edit':
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.name}`);
        const restore = this.indentLog(this.depth + 1);
        try {
          applyEdit(ins, this.ectx, this.locks);
        } catch (e) {
          if (e instanceof XlatYield) throw e;
          req.log.error(`${ins.loc.file}[${ins.loc.line}]: ${ins.name}: ${(e as Error).message}`);
          this.result = R.FAIL;
          return Act.CALC;
        } finally {
          restore();
        }
        return Act.NEXT;

      case 'if': {
        let cur: Instr | undefined = ins;
        while (cur && cur.k === 'if') {
          const c = cur.cond;
          const restore = this.indentLog(this.depth + 1);
          let t: boolean;
          try {
            t = c.k === 'lit' ? c.box.value === true : evalCond(c, this.ectx);
          } catch (e) {
            if (e instanceof XlatYield) throw e;
            // A condition that fails to evaluate (FreeRADIUS v4 unlang/condition.c): it is
            // logged, and with an `else`/`elsif` after it the next branch is tried as if the
            // condition were false. Without one the `if` gives rcode fail, which sets the
            // request rcode but, as in v4's own module tests (detail/suppress, redis/
            // cluster_node_fail: `if <call that fails> { test_fail }` then more statements),
            // does not end the section: it is merged at the lowest priority.
            req.log.error(`${cur.loc.file}[${cur.loc.line}]: ${cur.name}: ${(e as Error).message ?? String(e)}`);
            if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${cur.name} -> ... failed to evaluate condition ...`);
            if (cur.else) { cur = cur.else; continue; }
            req.rcode = 'fail';
            if (COND_FAIL_PRIO >= f.prio) { f.rcode = R.FAIL; f.prio = COND_FAIL_PRIO; }
            return Act.NEXT;
          } finally {
            restore();
          }
          if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${cur.name} -> ${t ? 'TRUE' : 'FALSE'}`);
          if (t) return this.enter(cur, cur.then, f, 0);
          cur = cur.else;
        }
        if (cur && cur.k === 'group') return this.enter(cur, cur.body, f, 0);
        return Act.NEXT;
      }

      case 'group':
        return this.enter(ins, ins.body, f, ins.returnPoint ? F.RETURN_POINT : 0);

      case 'module': {
        const call = new ModuleCall(ins.instance, ins.method, this.section, req.log);
        let r: Rcode | Promise<Rcode>;
        // The module's own lines (and its EXPANDs) are indented under the section, as in FreeRADIUS.
        const restore = this.indentLog(this.depth);
        try {
          r = ins.fn(req, call);
        } catch (e) {
          this.moduleError(ins, e);
          r = 'fail';
        } finally {
          restore();
        }
        if (typeof r === 'string') {
          const n = rcodeFromName(r) ?? R.FAIL;
          // One line per call: the module and its rcode.
          if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.name} (${r})`);
          this.result = n;
          req.rcode = RCODE_NAMES[n] as Rcode;
          return Act.CALC;
        }
        call.depth = this.depth - 1;
        this.yielded = call;
        r.then(
          (v) => this.moduleResumed(call, f, ins, rcodeFromName(v) ?? R.FAIL),
          (e) => {
            this.moduleError(ins, e);
            this.moduleResumed(call, f, ins, R.FAIL);
          },
        );
        return Act.YIELD;
      }

      case 'switch': {
        const v = evalExpr(ins.subject, this.ectx);
        let body: Block | undefined;
        if (v.length > 0) {
          let b = v[0];
          try {
            if (ins.type && b.type !== ins.type) b = castBox(b, ins.type, b.da);
            body = ins.cases.get(caseKey(b));
            if (!body && (b.type === 'ipaddr' || b.type === 'ipv6addr' || b.type === 'ipv4prefix' || b.type === 'ipv6prefix')) {
              // IP values match the longest case prefix that contains them.
              let best = -1;
              for (const c of ins.caseList) {
                if (c.box.type !== 'ipv4prefix' && c.box.type !== 'ipv6prefix') continue;
                const len = Number(String(c.box.value).split('/')[1] ?? -1);
                if (len > best && compareBoxes(b, '<=', c.box)) { best = len; body = c.body; }
              }
            }
            if (!body && !ins.type) {
              const s = boxToString(b);
              for (const c of ins.caseList) if (boxToString(c.box) === s) { body = c.body; break; }
            }
          } catch { body = undefined; }
        }
        body ??= ins.def;
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.name} → ${v.length ? traceBox(v[0]) : '(none)'}`);
        if (!body) return Act.NEXT;
        return this.enter(ins, body, f, F.BREAK_POINT);
      }

      case 'foreach': {
        let items: Box[];
        let pairs: Pair[] | undefined;
        if (ins.ref) {
          pairs = resolvePairs(ins.ref, this.ectx);
          items = pairs.map(pairBox);
        } else items = evalExpr(ins.source, this.ectx);
        if (items.length === 0) return Act.NEXT;
        if (pairs) { const l = (this.locks ??= new Set()); for (const p of pairs) l.add(p); }
        const st: ForeachState = { items, pairs, i: 0, rcode: 0 };
        f.state = st;
        if (!this.foreachSkip(ins, st)) {
          if (pairs) for (const p of pairs) this.locks?.delete(p);
          return Act.NEXT;
        }
        return this.foreachIter(ins, st);
      }

      case 'return': {
        let d = this.depth - 1;
        while (d > 0 && (this.frames[d].flags & F.RETURN_POINT) === 0) d--;
        const rc = f.rcode;
        for (let i = d; i < this.depth; i++) this.frames[i].flags |= F.UNWIND;
        if (rc) this.frames[d].rcode = rc;
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}return`);
        return Act.PUSHED;
      }

      case 'break': case 'continue': {
        const want = ins.k === 'break' ? F.BREAK_POINT : F.CONTINUE_POINT;
        let d = this.depth - 1;
        while (d > 0 && (this.frames[d].flags & want) === 0) d--;
        for (let i = d; i < this.depth; i++) this.frames[i].flags |= F.UNWIND;
        this.frames[d].flags |= ins.k === 'break' ? F.BROKE : F.CONTINUED;
        if (f.rcode && d !== this.depth - 1) this.frames[d].rcode = f.rcode;
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.k}`);
        return Act.PUSHED;
      }

      case 'redundant': {
        if (ins.children.length === 0) return Act.NEXT;
        if (ins.locals) this.clearLocals(ins.locals);
        const st: BalanceState = { start: 0, i: 0, tried: 1 };
        f.state = st;
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.name} { # child 0`);
        this.pushList([ins.children[0]], 0);
        return Act.PUSHED;
      }

      case 'load-balance': {
        const n = ins.children.length;
        if (n === 0) return Act.NEXT;
        let idx: number;
        if (ins.key) {
          const v = evalExpr(ins.key, this.ectx);
          if (v.length === 0) idx = Math.floor(Math.random() * n);
          else if (v[0].type === 'uint8') idx = Number(v[0].value) % n;
          else idx = hashString(boxToString(v[0])) % n;
        } else idx = Math.floor(Math.random() * n);
        const st: BalanceState = { start: idx, i: idx, tried: 1 };
        f.state = st;
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.name} { # child ${idx}`);
        const c = this.pushList([ins.children[idx]], 0);
        c.lbChild = idx;
        return Act.PUSHED;
      }

      case 'timeout': {
        const v = evalExpr(ins.dur, this.ectx);
        const secs = v.length ? Number(castBox(v[0], 'time_delta').value) : 0;
        if (!(secs > 1e-6)) {
          this.result = R.TIMEOUT;
          req.rcode = 'timeout';
          return Act.CALC;
        }
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.name} {`);
        const c = this.push(ins.body, 0);
        c.deadline = req.clock.now() + secs * 1000;
        return Act.PUSHED;
      }

      case 'limit': {
        const v = evalExpr(ins.max, this.ectx);
        const max = v.length ? Number(castBox(v[0], 'uint32').value) : 0;
        if (ins.state.active >= max) {
          this.result = R.FAIL;
          req.rcode = 'fail';
          return Act.CALC;
        }
        ins.state.active++;
        const c = this.push(ins.body, 0);
        c.cleanup = () => { ins.state.active--; };
        return Act.PUSHED;
      }

      case 'try':
        f.state = 0;
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}try {`);
        this.push(ins.body, 0);
        return Act.PUSHED;

      case 'transaction':
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}transaction {`);
        f.state = this.snapshot();
        this.push(ins.body, 0);
        return Act.PUSHED;

      case 'parallel':
        return this.parallel(ins, f);

      case 'xlat':
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.name}`);
        evalExpr(ins.e, this.ectx);
        return Act.NEXT;

      case 'subrequest':
        return this.subrequest(ins, f);

      case 'detach':
        if (!this.opts.onDetach) throw new BoxError('"detach" outside a subrequest');
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}detach`);
        this.opts.onDetach();
        return Act.NEXT;

      case 'call':
        return this.callServer(ins, f);

      case 'caller': {
        const p = req.parent;
        const proto = p?.dict?.protocol.toLowerCase() ?? (p ? ins.protocol : undefined);
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.name} -> ${proto === ins.protocol ? 'TRUE' : 'FALSE'}`);
        return proto === ins.protocol ? this.enter(ins, ins.body, f, 0) : Act.NEXT;
      }

      case 'map':
        return this.mapCall(ins, f);
    }
  }

  /** Pushes a block for `owner` (empty blocks are skipped). */
  private enter(owner: Instr, body: Block, f: Frame, flags: number): Act {
    if (body.children.length === 0 && !body.locals) return Act.NEXT;
    f.cur = owner;
    if (this.debug) this.request.log.debug(`${'  '.repeat(this.depth)}${owner.name} {`);
    this.push(body, flags);
    return Act.PUSHED;
  }

  /** Logs an error a module threw (or rejected with): located; with its stack under -X. */
  private moduleError(ins: Instr, e: unknown): void {
    const log = this.request.log;
    log.error(`${ins.loc.file}[${ins.loc.line}]: ${ins.name}: ${e instanceof Error ? e.message : String(e)}`);
    if (this.debug && e instanceof Error && e.stack) {
      // The module's own frames: up to where the interpreter called it.
      for (const line of e.stack.split('\n').slice(1)) {
        if (INTERPRETER_FRAME.test(line)) break;
        log.debug(`${'  '.repeat(this.depth)}  ${line.trim()}`);
      }
    }
  }

  /** Indents the request log's lines by `depth` (module lines, EXPANDs); returns the undo. */
  private indentLog(depth: number): () => void {
    const log = this.request.log as { indent?: number };
    if (!this.debug || typeof log.indent !== 'number') return NOOP;
    const before = log.indent;
    log.indent = depth;
    return () => { log.indent = before; };
  }

  private moduleResumed(call: ModuleCall, f: Frame, ins: Instr, r: number): void {
    if (call.cancelled || this.yielded !== call) return;
    this.yielded = undefined;
    if (this.debug) this.request.log.debug(`${'  '.repeat(this.depth)}${ins.name} (${RCODE_NAMES[r]})`);
    this.result = r;
    this.request.rcode = RCODE_NAMES[r] as Rcode;
    this.after(Act.CALC, f, ins);
    this.run();
  }

  /** Skips items a leaf loop variable cannot hold (structural children of a list). False at the end. */
  private foreachSkip(ins: Extract<Instr, { k: 'foreach' }>, st: ForeachState): boolean {
    if (ins.varDa.type !== 'group') while (st.i < st.items.length && st.items[st.i].type === 'group') st.i++;
    return st.i < st.items.length;
  }

  private foreachIter(ins: Extract<Instr, { k: 'foreach' }>, st: ForeachState): Act {
    const item = st.items[st.i];
    const c = this.push(ins.body, F.BREAK_POINT | F.CONTINUE_POINT);
    const local = this.request.local;
    let vb: Box;
    try {
      vb = ins.varDa.type === 'group' ? item : castBox(item, ins.varDa.type as never, undefined);
    } catch {
      vb = castBox(item, 'string');
    }
    const structural = ins.varDa.type === 'group';
    const vp = new Pair(ins.varDa, structural ? undefined : vb.value);
    if (structural) vp.children = (st.pairs?.[st.i]?.children ?? item.pair?.children ?? []).map(copyPair);
    else if (vb.safeFor !== undefined) vp.safeFor = vb.safeFor;
    local.push(vp);
    if (ins.keyDa) {
      let key: Box;
      if (st.pairs && ins.ref && ins.keyDa.type === 'string') {
        let path = ins.ref.text.replace(/^&/, '').replace(/\[\*\]$/, '');
        // Keys name the attribute fully: `request.Tmp-String-0[1]` (locals keep their bare name).
        if (ins.ref.list !== 'local' && !ins.ref.qualified) path = `${ins.ref.list}.${path}`;
        const text = `${path}[${st.i}]`;
        key = { type: 'string', value: text };
      } else key = { type: 'uint32', value: st.i };
      try { key = castBox(key, ins.keyDa.type as never); } catch { /* keep as is */ }
      local.push(new Pair(ins.keyDa, key.value));
    }
    c.cleanup = (fr) => {
      // Copy the loop variable back into the attribute it came from.
      if (st.pairs) {
        const p = st.pairs[st.i];
        const v = this.request.local.find((x) => x.da === ins.varDa);
        // Only leaf values are copied back: a structural variable can be read, not changed (as in FreeRADIUS).
        if (v && !p.children && v.value !== undefined) {
          try { p.value = castBox({ type: ins.varDa.type as never, value: v.value }, p.da.type as never, p.da).value; } catch { /* keep */ }
        }
      }
      if ((fr.flags & F.UNWIND) !== 0 && (fr.flags & (F.BROKE | F.CONTINUED)) === 0 && st.pairs) {
        for (const p of st.pairs) this.locks?.delete(p);
      }
    };
    if (this.debug) this.request.log.debug(`${'  '.repeat(this.depth - 1)}${ins.name} # ${traceBox(item)}`);
    return Act.PUSHED;
  }

  /** Resumes an instruction after its child frame `c` popped. */
  private resume(ins: Instr, f: Frame, c: Frame): Act {
    const req = this.request;
    switch (ins.k) {
      case 'foreach': {
        const st = f.state as ForeachState;
        if (c.rcode) st.rcode = c.rcode;
        const a = c.rcode ? ins.actions[c.rcode] : 0;
        st.i++;
        if ((c.flags & F.BROKE) === 0 && a !== A.RETURN && a !== A.REJECT && this.foreachSkip(ins, st)) return this.foreachIter(ins, st);
        if (st.pairs) for (const p of st.pairs) this.locks?.delete(p);
        this.result = st.rcode;
        return Act.CALC;
      }

      case 'redundant': case 'load-balance': {
        const st = f.state as BalanceState;
        const r = c.rcode;
        const n = ins.children.length;
        const redundant = ins.k === 'redundant' || ins.redundant;
        // The next child is tried when this one's action for its rcode is not return/reject
        // (by default fail and timeout; see ACTIONS_REDUNDANT), or when it set no rcode.
        const a = r === R.NOT_SET ? A.NOT_SET : ins.children[st.i].actions[r];
        if (redundant && a !== A.RETURN && a !== A.REJECT && st.tried < n) {
          st.i = (st.i + 1) % n;
          if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}# ${ins.name}: ${RCODE_NAMES[r] || 'no result'}, trying child ${st.i}`);
          st.tried++;
          const nf = this.pushList([ins.children[st.i]], 0);
          if (ins.k === 'load-balance') nf.lbChild = st.i;
          return Act.PUSHED;
        }
        this.result = r;
        if (ins.k === 'load-balance') this.rcodeSet(r);
        return Act.CALC;
      }

      case 'timeout': {
        const r = (c.flags & F.TIMED_OUT) !== 0 ? R.TIMEOUT : c.rcode;
        this.result = r;
        this.rcodeSet(r);
        return r ? Act.CALC : Act.NEXT;
      }

      case 'try': {
        if (f.state === 0) {
          const r = c.rcode;
          const body = r ? ins.catches[r] ?? ins.catchAll : undefined;
          if (body) {
            f.state = 1;
            if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}catch ${RCODE_NAMES[r]}`);
            if (body.children.length === 0) { this.result = 0; return Act.NEXT; }
            this.push(body, 0);
            return Act.PUSHED;
          }
          this.result = r;
          this.rcodeSet(r);
          return r ? Act.CALC : Act.NEXT;
        }
        this.result = c.rcode;
        this.rcodeSet(c.rcode);
        return c.rcode ? Act.CALC : Act.NEXT;
      }

      case 'transaction': {
        const r = c.rcode;
        if (r === R.FAIL || r === R.INVALID || r === R.DISALLOW || r === R.REJECT) {
          this.restore(f.state as Snapshot);
          if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}transaction rolled back`);
        }
        this.result = r;
        return Act.CALC;
      }

      case 'limit':
        this.result = c.rcode;
        return Act.CALC;

      case 'call': {
        // The body's rcode, else the called server's.
        const r = c.rcode || (f.state as number);
        this.result = r;
        this.rcodeSet(r);
        return r ? Act.CALC : Act.NEXT;
      }

      case 'switch': case 'if': case 'group':
      default:
        if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}} # ${(f.cur ?? ins).name} (${RCODE_NAMES[c.rcode] || '-'})`);
        this.result = c.rcode;
        return Act.CALC;
    }
  }

  // ------------------------------------------------------------ parallel

  private parallel(ins: Extract<Instr, { k: 'parallel' }>, f: Frame): Act {
    const req = this.request;
    const results: (Rcode | undefined)[] = [];
    const pending: Promise<void>[] = [];
    const children: Execution[] = [];
    for (let i = 0; i < ins.children.length; i++) {
      const child = createChildRequest(req, ins.mode);
      const sec: CompiledSection = { ...this.section, body: { children: [ins.children[i]] } };
      const ex = new Execution(sec, child);
      children.push(ex);
      const r = ex.start();
      if (r !== undefined) results[i] = r;
      else pending.push(ex.promise.then((v) => { results[i] = v; }));
    }
    // FreeRADIUS v4 (unlang/parallel.c): the children's results merge by priority, the first child
    // setting the result and a later one replacing it only with a strictly higher priority. A child
    // whose result would `return` (fail, timeout, …) does not make the parallel section return: it
    // counts with priority 0, as does `reject` (and a `reject` action gives `reject`).
    const merge = (): number => {
      let best = 0;
      let prio = -1;
      for (const r of results) {
        const n = r ? rcodeFromName(r) ?? 0 : 0;
        if (!n) continue;
        const a = ins.actions[n];
        const res = a === A.REJECT ? R.REJECT : n;
        const p = a === A.RETURN || a === A.REJECT ? 0 : a;
        if (p > prio) { best = res; prio = p; }
      }
      return best;
    };
    if (ins.mode === 'detach') {
      // Detached children run on their own; the parent does not wait for them.
      for (const p of pending) void p.catch(() => undefined);
      return Act.NEXT;
    }
    if (pending.length === 0) {
      this.result = merge();
      this.rcodeSet(this.result);
      return Act.CALC;
    }
    const call = new ModuleCall('parallel', undefined, this.section, req.log);
    call.depth = this.depth - 1;
    call.onSignal((s) => { for (const ex of children) ex.signal(s); });
    this.yielded = call;
    void Promise.all(pending).then(() => this.moduleResumed(call, f, ins, merge()));
    return Act.YIELD;
  }

  // ------------------------------------------------------------ subrequest, call, map

  /** `subrequest`: the body runs in a child request with empty lists; the parent waits unless it `detach`es. */
  private subrequest(ins: Extract<Instr, { k: 'subrequest' }>, f: Frame): Act {
    const req = this.request;
    const child = createChildRequest(req, 'empty');
    child.code = ins.code || req.code;
    const pt = req.dict?.resolve('Packet-Type');
    if (pt) child.request.push(new Pair(pt, child.code));
    let detached = false;
    let waiting: ModuleCall | undefined;
    const onDetach = (): void => {
      if (detached) return;
      detached = true;
      child.parent = undefined;
      if (this.debug) req.log.debug(`${ins.name}: child detached, the parent continues`);
      const call = waiting;
      waiting = undefined;
      // The parent continues after the child's current step, without a result.
      if (call) queueMicrotask(() => this.childDetached(call, f, ins));
    };
    const sec: CompiledSection = { name1: 'subrequest', name2: req.dict?.packetTypeName(child.code), body: ins.body, loc: ins.loc, actions: ins.actions };
    const ex = new Execution(sec, child, { onDetach });
    if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.name} {`);
    const r = ex.start();
    if (detached) return Act.NEXT;
    if (r !== undefined) {
      this.result = rcodeFromName(r) ?? R.FAIL;
      this.rcodeSet(this.result);
      return Act.CALC;
    }
    const call = new ModuleCall('subrequest', undefined, this.section, req.log);
    call.depth = this.depth - 1;
    call.onSignal((s) => { if (!detached) ex.signal(s); });
    this.yielded = call;
    waiting = call;
    void ex.promise.then((v) => {
      if (waiting !== call) return;
      waiting = undefined;
      this.moduleResumed(call, f, ins, rcodeFromName(v) ?? R.FAIL);
    });
    return Act.YIELD;
  }

  private childDetached(call: ModuleCall, f: Frame, ins: Instr): void {
    if (call.cancelled || this.yielded !== call) return;
    this.yielded = undefined;
    this.after(Act.NEXT, f, ins);
    this.run();
  }

  /** `call <server>`: the request goes through the other server, then the body runs. */
  private callServer(ins: Extract<Instr, { k: 'call' }>, f: Frame): Act {
    const req = this.request;
    const depth = callDepth.get(req) ?? 0;
    if (depth >= CALL_MAX) throw new BoxError(`more than ${CALL_MAX} nested "call"s`);
    const call = new ModuleCall(ins.server, undefined, this.section, req.log);
    if (this.debug) req.log.debug(`${'  '.repeat(this.depth)}${ins.name} {`);
    callDepth.set(req, depth + 1);
    let r: Rcode | Promise<Rcode>;
    try {
      r = ins.servers.run(ins.server, req, call.signal);
    } catch (e) {
      callDepth.set(req, depth);
      throw e;
    }
    if (typeof r === 'string') {
      callDepth.set(req, depth);
      return this.callBody(ins, f, rcodeFromName(r) ?? R.FAIL);
    }
    call.depth = this.depth - 1;
    this.yielded = call;
    const resumed = (rc: number): void => {
      callDepth.set(req, depth);
      if (call.cancelled || this.yielded !== call) return;
      this.yielded = undefined;
      let act: Act;
      try {
        act = this.callBody(ins, f, rc);
      } catch (e) {
        act = this.execError(e, ins, f);
      }
      this.after(act, f, ins);
      this.run();
    };
    r.then((v) => resumed(rcodeFromName(v) ?? R.FAIL), (e) => {
      req.log.error(`${ins.name}: ${(e as Error)?.message ?? String(e)}`);
      resumed(R.FAIL);
    });
    return Act.YIELD;
  }

  private callBody(ins: Extract<Instr, { k: 'call' }>, f: Frame, rc: number): Act {
    if (this.debug) this.request.log.debug(`${'  '.repeat(this.depth)}${ins.name} (${RCODE_NAMES[rc]})`);
    this.rcodeSet(rc);
    if (ins.body.children.length === 0) {
      this.result = rc;
      return Act.CALC;
    }
    f.state = rc;
    f.cur = ins;
    this.push(ins.body, 0);
    return Act.PUSHED;
  }

  /** `map <module> "query" { … }`: the module's map method, then the field assignments. */
  private mapCall(ins: Extract<Instr, { k: 'map' }>, f: Frame): Act {
    const req = this.request;
    // Evaluated first: a yielding function in the query or a field name (`%exec(…)`) suspends the
    // instruction (XlatYield), as elsewhere.
    const names = ins.entries.map((m) => evalExpr(m.field, this.ectx).map(boxToString).join(''));
    if (ins.list) {
      const fields = new Map<string, readonly string[]>();
      evalExpr(ins.query!, this.ectx).forEach((b, i) => {
        const t = boxToString(b);
        if (t !== '') fields.set(String(i), [t]);
      });
      this.result = this.applyMap(ins, { fields }, names);
      this.rcodeSet(this.result);
      return Act.CALC;
    }
    const query = ins.query ? this.mapQuery(ins.query, ins.escape) : '';
    const call = new ModuleCall(ins.instance, 'map', this.section, req.log);
    let r: MapResult | Promise<MapResult>;
    try {
      r = ins.map(req, call, query);
    } catch (e) {
      req.log.error(`${ins.name}: ${(e as Error).message}`);
      r = 'fail';
    }
    if (!(r instanceof Promise)) {
      this.result = this.applyMap(ins, r, names);
      this.rcodeSet(this.result);
      return Act.CALC;
    }
    call.depth = this.depth - 1;
    this.yielded = call;
    r.then(
      (v) => { if (!call.cancelled && this.yielded === call) this.moduleResumed(call, f, ins, this.applyMap(ins, v, names)); },
      (e) => {
        req.log.error(`${ins.name}: ${(e as Error)?.message ?? String(e)}`);
        this.moduleResumed(call, f, ins, R.FAIL);
      },
    );
    return Act.YIELD;
  }

  /**
   * The text of a map query: literal text as written, every expanded value passed through the
   * module's escape (a quoted string escapes its expansions; any other expression as a whole),
   * except values marked safe for it (`%sql.safe(…)`, kept in a local variable).
   */
  private mapQuery(q: Expr, escape?: ValueEscape): string {
    if (!escape || q.k === 'lit') return evalExpr(q, this.ectx).map(boxToString).join('');
    if (q.k !== 'str') return escapeBoxes(evalExpr(q, this.ectx), escape);
    let s = '';
    for (const p of q.parts) s += typeof p === 'string' ? p : escapeBoxes(evalExpr(p, this.ectx), escape);
    return s;
  }

  /**
   * Applies a map result (`names`: the lines' field names, evaluated before the call): every
   * field must exist; a failure leaves the lists as they were.
   */
  private applyMap(ins: Extract<Instr, { k: 'map' }>, res: MapResult, names: readonly string[]): number {
    if (typeof res === 'string') return rcodeFromName(res) ?? R.FAIL;
    if ('rows' in res) return this.applyMapRows(ins, res, names);
    const req = this.request;
    const values: (readonly string[] | undefined)[] = [];
    for (let i = 0; i < ins.entries.length; i++) {
      const m = ins.entries[i];
      const name = names[i];
      const v = res.fields.get(name);
      if (!v && ins.list) {
        values.push([]);
        continue;
      }
      if (!v && !res.skipMissing) {
        req.log.error(`${m.loc.file}[${m.loc.line}]: ${ins.name}: no field "${name}" in the result`);
        return R.FAIL;
      }
      if (!v && req.debug) req.log.debug(`${ins.name}: no field "${name}", skipped`);
      values.push(v);
    }
    if (ins.entries.length === 0) return R.NOOP;
    if (values.every((v) => !v)) return R.OK;
    return this.mapEdits(ins, () => {
      for (let i = 0; i < ins.entries.length; i++) {
        const vals = values[i];
        if (!vals || (ins.list && !vals.length)) continue;
        this.mapLine(ins, ins.entries[i], vals);
      }
    });
  }

  /** Runs a map's edits: `updated`, or `fail` with the lists as they were before. */
  private mapEdits(ins: Extract<Instr, { k: 'map' }>, edits: () => void): number {
    const snap = this.snapshot();
    try {
      edits();
    } catch (e) {
      this.restore(snap);
      this.request.log.error(`${ins.loc.file}[${ins.loc.line}]: ${ins.name}: ${(e as Error).message}`);
      return R.FAIL;
    }
    return R.UPDATED;
  }

  /**
   * Applies a result row by row (FreeRADIUS's SQL map): each line takes its column of every row
   * in turn with its operator, so `:=` leaves the last row's value, `=` the first's, `+=` adds
   * one per row and `^=` prepends row by row. Columns match case-insensitively; a line whose
   * column the result lacks is skipped, and none matching is `noop` (before `notfound` for no
   * row). A NULL column leaves its attribute alone. A failure leaves the lists as they were.
   */
  private applyMapRows(ins: Extract<Instr, { k: 'map' }>, res: MapRows, names: readonly string[]): number {
    const req = this.request;
    const cols: number[] = [];
    let any = false;
    const lower = res.columns.map((c) => c.toLowerCase());
    for (const name of names) {
      const c = lower.indexOf(name.toLowerCase());
      if (c < 0 && req.debug) req.log.debug(`${ins.name}: no column "${name}" in the result, line skipped`);
      if (c >= 0) any = true;
      cols.push(c);
    }
    if (!any) {
      if (req.debug) req.log.debug(`${ins.name}: no column of the result is in the map`);
      return R.NOOP;
    }
    if (res.rows.length === 0) return R.NOTFOUND;
    return this.mapEdits(ins, () => {
      for (const row of res.rows) {
        for (let i = 0; i < cols.length; i++) {
          const v = cols[i] < 0 ? null : row[cols[i]];
          if (v !== null && v !== undefined) this.mapLine(ins, ins.entries[i], [v]);
        }
      }
    });
  }

  /**
   * One map line with its values, operators as in FreeRADIUS's map: `+=` adds an instance per
   * value, `^=` puts them before the existing ones, `:=` replaces the attribute with them, the
   * others edit with the first value (`=` sets it when the attribute is absent).
   */
  private mapLine(ins: Extract<Instr, { k: 'map' }>, m: MapEntry, vals: readonly string[]): void {
    const items: Expr[] = vals.map((t) => ({ k: 'lit', box: box('string', t) }));
    const base = { k: 'edit' as const, name: m.name, loc: m.loc, actions: ins.actions };
    let add = items;
    if (m.op !== '+=' && m.op !== '^=') {
      const first = items[0] ?? ({ k: 'lit', box: box('string', '') } as Expr);
      applyEdit({ ...base, lhs: m.lhs, lhsList: false, lhsType: m.lhsType, op: m.op, rhs: { k: 'expr', e: first } }, this.ectx, this.locks);
      add = m.op === ':=' ? items.slice(1) : [];
    }
    if (!add.length) return;
    const seg = m.lhs.segs[m.lhs.segs.length - 1];
    const parent = { ...m.lhs, segs: m.lhs.segs.slice(0, -1) };
    const pairs = add.map((e) => ({ da: seg.da, path: [], op: '=', rhs: { k: 'expr' as const, e }, loc: m.loc }));
    applyEdit({ ...base, lhs: parent, lhsList: true, lhsType: 'group', op: m.op === '^=' ? '^=' : '+=', rhs: { k: 'pairs', items: pairs } }, this.ectx, this.locks);
  }

  // ------------------------------------------------------------ transactions

  private snapshot(): Snapshot {
    const r = this.request;
    return [r.request.map(copyPair), r.reply.map(copyPair), r.control.map(copyPair), r.sessionState.map(copyPair), r.local.map(copyPair)];
  }

  private restore(s: Snapshot): void {
    const r = this.request;
    r.setList('request', s[0]);
    r.setList('reply', s[1]);
    r.setList('control', s[2]);
    r.setList('session-state', s[3]);
    r.setList('local', s[4]);
  }
}

/** The evaluation context of one execution (xlat functions see it). */
class ExecEvalContext implements EvalContext {
  memo: Map<import('../compile/types').Expr, Box[] | XlatFailed> | undefined = undefined;
  readonly dict: Request['dict'];
  constructor(readonly interp: Execution, readonly request: Request) {
    this.dict = request.dict;
  }
  get signal(): AbortSignal {
    return this.interp.xlatSignal();
  }
}

type Snapshot = [Pair[], Pair[], Pair[], Pair[], Pair[]];

interface ForeachState { items: Box[]; pairs: Pair[] | undefined; i: number; rcode: number }
interface BalanceState { start: number; i: number; tried: number }

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}

/** A child request for `parallel`: cloned lists (default) or empty ones. */
function createChildRequest(parent: Request, mode: 'clone' | 'empty' | 'detach'): Request {
  const Ctor = parent.constructor as new (o: object) => Request;
  const child = new Ctor({ parent, dict: parent.dict, code: parent.code, id: parent.id, debug: parent.log.debugEnabled, number: parent.number });
  if (mode === 'clone') {
    child.request = parent.request.map(copyPair);
    child.control = parent.control.map(copyPair);
    child.reply = parent.reply.map(copyPair);
    child.sessionState = parent.sessionState.map(copyPair);
  }
  return child;
}

/**
 * Runs a compiled section for a request. Returns the rcode synchronously when
 * nothing yielded, otherwise a Promise of it.
 */
export function runSection(section: CompiledSection, request: Request, opts?: ExecutionOptions): Rcode | Promise<Rcode> {
  const ex = new Execution(section, request, opts);
  const r = ex.start();
  return r ?? ex.promise;
}

export { SECTION_NONE };
