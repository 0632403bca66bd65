import { describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../dict/default';
import type { CallSignal, ModuleHandle, ModuleMethod } from './module-call';
import type { Rcode } from '../request/rcode';
import { Request } from '../request/request';
import { Pair } from '../pair/pair';
import { parseConfigString } from '../config/parser';
import type { ConfSection } from '../config/ast';
import { CompileError, Execution, compileUnlang, runSection, type CompileOptions } from './index';
import { boxToString } from './xlat/box';
import { evalExpr } from './xlat/eval';

const dict = loadDefaultDictionary();

function mods(table: Record<string, ModuleMethod>): (name: string) => ModuleHandle | undefined {
  return (name) => (table[name] ? { name, method: () => table[name] } : undefined);
}

function compile(text: string, extra: Partial<CompileOptions> = {}) {
  return compileUnlang(text, { dict, ...extra });
}

function newRequest(debug = false, lines?: string[]): Request {
  const r = new Request({ code: 1, dict, debug, sink: lines ? (_l, line) => lines.push(line) : undefined });
  return r;
}

function attr(req: Request, list: 'request' | 'reply' | 'control', name: string): unknown {
  const da = dict.resolve(name)!;
  return req[list].find((p) => p.da === da)?.value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('unlang compiler + interpreter (synchronous)', () => {
  it('runs conditions, edits and rcodes without yielding', () => {
    const sec = compile(`
      uint32 n
      n := 3
      if (n > 2 && !reply.Reply-Message) {
        reply.Reply-Message := "n is %{n}"
      }
      elsif (n == 1) {
        reject
      }
      ok
    `);
    const req = newRequest();
    const r = runSection(sec, req);
    expect(r).toBe('ok');
    expect(attr(req, 'reply', 'Reply-Message')).toBe('n is 3');
    expect(req.local).toEqual([]);
  });

  it('merges results by priority and honours per-call overrides', () => {
    expect(runSection(compile('notfound\nok\nnoop'), newRequest())).toBe('ok');
    expect(runSection(compile('ok\nupdated\nnoop'), newRequest())).toBe('updated');
    expect(runSection(compile('noop { noop = 10 }\nok'), newRequest())).toBe('noop');
    expect(runSection(compile('ok\nfail\nok'), newRequest())).toBe('fail');
    expect(runSection(compile('group { ok { ok = return }\nfail }\nnoop'), newRequest())).toBe('ok');
  });

  it('uses the authenticate table in authenticate sections', () => {
    const sec = compileUnlang('updated\nok', { dict, section: { name1: 'authenticate', name2: 'pap' } });
    expect(runSection(sec, newRequest())).toBe('ok');
  });

  it('switch, foreach with write-back, break and continue', () => {
    const sec = compile(`
      uint32 total
      NAS-Port := { 1, 2, 3, 4, 5 }
      foreach uint32 p (NAS-Port[*]) {
        if (p == 2) { continue }
        if (p == 5) { break }
        total += p
        p += 10
      }
      switch total {
        case 8 { reply.Reply-Message := "eight" }
        default { reply.Reply-Message := "other" }
      }
    `);
    const req = newRequest();
    runSection(sec, req);
    expect(attr(req, 'reply', 'Reply-Message')).toBe('eight');
    const port = dict.resolve('NAS-Port')!;
    expect(req.request.filter((p) => p.da === port).map((p) => p.value)).toEqual([11, 2, 13, 14, 5]);
  });

  it('policies are return points', () => {
    const text = `return_early { reply.Reply-Message := "a"\n return\n reply.Reply-Message := "b" }`;
    const cs = parseConfigString(text, 'policy.conf').children[0] as ConfSection;
    const policies = new Map([['return_early', cs]]);
    const req = newRequest();
    runSection(compile('return_early\nreply.Filter-Id := "after"', { policies }), req);
    expect(attr(req, 'reply', 'Reply-Message')).toBe('a');
    expect(attr(req, 'reply', 'Filter-Id')).toBe('after');
  });

  it('transaction rolls back on failure', () => {
    const req = newRequest();
    runSection(compile('transaction {\n reply.Filter-Id := "x"\n fail\n}\n'), req);
    expect(attr(req, 'reply', 'Filter-Id')).toBeUndefined();
  });

  it('try / catch catches the rcode of the body', () => {
    const req = newRequest();
    const r = runSection(compile('try {\n fail\n}\ncatch fail {\n reply.Filter-Id := "caught"\n}\nok'), req);
    expect(r).toBe('ok');
    expect(attr(req, 'reply', 'Filter-Id')).toBe('caught');
  });

  it('evaluates expressions with correct typing', () => {
    const sec = compile(`
      uint32 a
      int64 b
      string s
      a := %{ 1 + 2 * 3 }
      b := -5 * a
      s := "%{a}-%{b}-%str.upper('x')-%hex(0x0102)-%{1 << 3 | 1}"
    `);
    const req = newRequest();
    runSection(sec, req);
    const s = req.local.find((p) => p.da.name === 's');
    expect(s).toBeUndefined(); // locals are cleared when the section ends
    const sec2 = compile(`reply.Reply-Message := "%{ 1 + 2 * 3 }-%{ -5 * 7 }-%str.upper('x')-%hex(0x0102)-%{1 << 3 | 1}-%{ 10 / 4 }"`);
    const req2 = newRequest();
    runSection(sec2, req2);
    expect(attr(req2, 'reply', 'Reply-Message')).toBe('7--35-X-0102-9-2');
  });

  it('regex captures', () => {
    const req = newRequest();
    req.request.push(new Pair(dict.resolve('User-Name')!, 'bob@example.com'));
    runSection(compile('if (User-Name =~ /^([^@]+)@(.*)$/) {\n reply.Reply-Message := "%{1} at %regex.match(2)"\n}'), req);
    expect(attr(req, 'reply', 'Reply-Message')).toBe('bob at example.com');
  });

  it('writes a -X style trace only when debug is on', () => {
    const lines: string[] = [];
    const req = newRequest(true, lines);
    runSection(compile('if (1 == 1) {\n ok\n}'), req);
    expect(lines[0]).toMatch(/^\(\d+\) recv Access-Request \{ # from .*\[1\]$/); // names its source
    expect(lines.some((l) => /if \(1 == 1\) -> TRUE/.test(l))).toBe(true);
    expect(lines.some((l) => /ok \(ok\)/.test(l))).toBe(true);
    const quiet: string[] = [];
    runSection(compile('if (1 == 1) {\n ok\n}'), newRequest(false, quiet));
    expect(quiet).toEqual([]);
  });
});

describe('unlang compile errors are located', () => {
  const cases: [string, number, RegExp][] = [
    ['ok\nif (Not-An-Attribute == 1) {\n ok\n}', 2, /Unknown attribute/],
    ['ok\n\nbreak', 3, /break/],
    ['else {\n ok\n}', 1, /must follow/],
    ['try {\n ok\n}\nok', 1, /catch/],
    ['uint32 a\na := "abc"', 2, /uint32/],
    ['ok {\n foo = 1\n}', 2, /Unknown rcode/],
    ['group {\n actions {\n ok = 1\n }\n ok\n}', 2, /last/],
    ['switch User-Name {\n case "a" { ok }\n case "a" { ok }\n}', 3, /Duplicate/],
    ['if (User-Name =~ /[a-3]/) {\n ok\n}', 1, /regular expression/],
    ['reply.Reply-Message := "%{%{User-Name}:-x}"', 1, /:-/],
    ['no_such_module', 1, /Unknown module/],
  ];
  for (const [text, line, re] of cases) {
    it(`${JSON.stringify(text.slice(0, 30))} → line ${line}`, () => {
      let err: unknown;
      try { compile(text); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(CompileError);
      const ce = err as CompileError;
      expect(ce.line).toBe(line);
      expect(ce.message).toMatch(/^<unlang>\[\d+\]: /);
      expect(ce.detail).toMatch(re);
    });
  }
});

describe('unlang yield / resume and signals', () => {
  it('parks the request on a Promise and resumes when it settles', async () => {
    const order: string[] = [];
    const slow: ModuleMethod = async () => { order.push('slow-start'); await sleep(5); order.push('slow-end'); return 'updated'; };
    const sec = compile('slow\nreply.Filter-Id := "after"\nok', { modules: mods({ slow }) });
    const req = newRequest();
    const r = runSection(sec, req);
    expect(r).toBeInstanceOf(Promise);
    expect(attr(req, 'reply', 'Filter-Id')).toBeUndefined();
    expect(await r).toBe('updated');
    expect(attr(req, 'reply', 'Filter-Id')).toBe('after');
    expect(order).toEqual(['slow-start', 'slow-end']);
  });

  it('runs many requests in flight at once', async () => {
    const slow: ModuleMethod = async (req) => { await sleep(Math.random() * 10); return req.number % 2 ? 'ok' : 'notfound'; };
    const sec = compile('slow\nif (ok) {\n reply.Filter-Id := "odd"\n} else {\n reply.Filter-Id := "even"\n}', { modules: mods({ slow }) });
    const reqs = Array.from({ length: 50 }, () => newRequest());
    const results = await Promise.all(reqs.map((r) => runSection(sec, r)));
    for (let i = 0; i < reqs.length; i++) {
      expect(results[i]).toBe(reqs[i].number % 2 ? 'ok' : 'notfound');
      expect(attr(reqs[i], 'reply', 'Filter-Id')).toBe(reqs[i].number % 2 ? 'odd' : 'even');
    }
  });

  it('timeout cancels the frames below it: onSignal hears cancel and the AbortSignal aborts', async () => {
    const seen: CallSignal[] = [];
    let signal: AbortSignal | undefined;
    let settled = false;
    const slow: ModuleMethod = (_req, ctx) => {
      signal = ctx.signal;
      ctx.onSignal((s) => seen.push(s));
      return new Promise<Rcode>((res) => setTimeout(() => { settled = true; res('ok'); }, 1000));
    };
    const sec = compile('timeout 20ms {\n slow\n reply.Filter-Id := "not reached"\n actions {\n timeout = 1\n }\n}\nif (timeout) {\n reply.Reply-Message := "timed out"\n}\nok', { modules: mods({ slow }) });
    const req = newRequest();
    const r = await runSection(sec, req);
    // The section finished without waiting for the module.
    expect(settled).toBe(false);
    expect(seen).toEqual(['cancel']);
    expect(signal?.aborted).toBe(true);
    expect(attr(req, 'reply', 'Filter-Id')).toBeUndefined();
    expect(attr(req, 'reply', 'Reply-Message')).toBe('timed out');
    expect(r).toBe('ok');
    // Without the override, `timeout` returns from the section.
    expect(await runSection(compile('timeout 10ms {\n slow\n}\nok', { modules: mods({ slow }) }), newRequest())).toBe('timeout');
  });

  it('a timeout that does not fire is transparent', async () => {
    const quick: ModuleMethod = async () => 'notfound';
    const r = await runSection(compile('timeout 1s {\n quick\n}', { modules: mods({ quick }) }), newRequest());
    expect(r).toBe('notfound');
  });

  it('delivers dup to the yielded call and cancel to everything', async () => {
    const seen: CallSignal[] = [];
    let release: ((r: Rcode) => void) | undefined;
    const slow: ModuleMethod = (_req, ctx) => {
      ctx.onSignal((s) => seen.push(s));
      return new Promise<Rcode>((res) => { release = res; });
    };
    const sec = compile('slow\nok', { modules: mods({ slow }) });
    const ex = new Execution(sec, newRequest());
    expect(ex.start()).toBeUndefined();
    ex.signal('dup');
    expect(seen).toEqual(['dup']);
    release!('ok');
    expect(await ex.promise).toBe('ok');

    const ex2 = new Execution(sec, newRequest());
    ex2.start();
    ex2.signal('cancel');
    expect(seen).toEqual(['dup', 'dup', 'cancel'].slice(0, 1).concat(['cancel']));
    expect(await ex2.promise).toBe('fail');
    expect(ex2.done).toBe(true);
  });

  it('max_request_time cancels a stuck request', async () => {
    const stuck: ModuleMethod = (_req, ctx) => new Promise<Rcode>((res) => ctx.signal.addEventListener('abort', () => res('ok')));
    const r = await runSection(compile('stuck', { modules: mods({ stuck }) }), newRequest(), { maxRequestTime: 0.02 });
    expect(r).toBe('fail');
  });

  it('an xlat function may yield too', async () => {
    const { XlatRegistry, globalXlats } = await import('./xlat/registry');
    const xlats: InstanceType<typeof XlatRegistry> = globalXlats.child();
    xlats.register('later', async () => { await sleep(2); return [{ type: 'string', value: 'done' }]; });
    const req = newRequest();
    const r = await runSection(compile('reply.Filter-Id := %later()\nok', { xlats }), req);
    expect(r).toBe('ok');
    expect(attr(req, 'reply', 'Filter-Id')).toBe('done');
  });

  it('parallel runs children concurrently and merges by priority', async () => {
    let running = 0;
    let most = 0;
    const busy = async (rc: Rcode): Promise<Rcode> => { most = Math.max(most, ++running); await sleep(5); running--; return rc; };
    const slowOk: ModuleMethod = () => busy('ok');
    const slowUpdated: ModuleMethod = () => busy('updated');
    const r = await runSection(compile('parallel {\n slowOk\n slowUpdated\n slowOk\n}', { modules: mods({ slowOk, slowUpdated }) }), newRequest());
    expect(r).toBe('updated');
    // All three were in flight at once.
    expect(most).toBe(3);
    expect(runSection(compile('parallel {\n ok\n noop\n}'), newRequest())).toBe('ok');
    // As FreeRADIUS v4's parallel.c: a child whose result would `return` (fail, reject, timeout …)
    // counts with priority 0, so it is the result only when nothing ranks higher, and the parallel
    // section itself does not make the enclosing section return.
    expect(runSection(compile('parallel {\n ok\n fail\n}'), newRequest())).toBe('ok');
    expect(runSection(compile('parallel {\n fail\n ok\n}'), newRequest())).toBe('ok');
    expect(runSection(compile('parallel {\n fail\n reject\n}'), newRequest())).toBe('fail');
    expect(runSection(compile('parallel {\n reject\n fail\n}'), newRequest())).toBe('reject');
    expect(runSection(compile('parallel {\n ok\n group {\n timeout 0 {\n ok\n }\n }\n}\nnoop'), newRequest())).toBe('ok');
    expect(runSection(compile('parallel {\n group {\n timeout 0 {\n ok\n }\n }\n}\nnoop'), newRequest())).toBe('timeout');
  });

  it('parallel empty starts children with empty lists; detach does not wait', async () => {
    const req = newRequest();
    req.request.push(new Pair(dict.resolve('User-Name')!, 'bob'));
    const r = runSection(compile('parallel empty {\n group {\n if (User-Name) {\n parent.reply.Filter-Id := "saw"\n }\n ok\n }\n}'), req);
    expect(r).toBe('ok');
    expect(attr(req, 'reply', 'Filter-Id')).toBeUndefined();
    let done = false;
    const slow: ModuleMethod = async () => { await sleep(5); done = true; return 'ok'; };
    const r2 = runSection(compile('parallel detach {\n slow\n}\nnoop', { modules: mods({ slow }) }), newRequest());
    expect(r2).toBe('noop');
    expect(done).toBe(false);
    await sleep(20);
    expect(done).toBe(true);
  });

  it('limit refuses callers beyond the limit while they are in flight', async () => {
    const slow: ModuleMethod = async () => { await sleep(10); return 'ok'; };
    const sec = compile('limit 1 {\n slow\n}', { modules: mods({ slow }) });
    const [a, b] = await Promise.all([runSection(sec, newRequest()), runSection(sec, newRequest())]);
    expect(a).toBe('ok');
    expect(b).toBe('fail');
    expect(await runSection(sec, newRequest())).toBe('ok');
  });

  it('redundant fails over and load-balance picks one child', () => {
    const r1 = runSection(compile('redundant {\n fail\n notfound\n ok\n}'), newRequest());
    expect(r1).toBe('notfound');
    for (let i = 0; i < 20; i++) {
      const req = newRequest();
      runSection(compile('load-balance {\n group { reply.Filter-Id += "a" }\n group { reply.Filter-Id += "b" }\n}'), req);
      const fid = dict.resolve('Filter-Id')!;
      expect(req.reply.filter((p) => p.da === fid).length).toBe(1);
    }
  });
});

describe('redundant: action tables of the children', () => {
  const nf: ModuleMethod = () => 'notfound';
  const ok: ModuleMethod = () => 'ok';

  it('a child whose rcode has a priority action (an override) passes on to the next child', () => {
    const req = newRequest();
    const sec = compile('redundant {\n nfmod {\n  notfound = 1\n }\n okmod\n}', { modules: mods({ nfmod: nf, okmod: ok }) });
    expect(runSection(sec, req)).toBe('ok');
    // Without the override, notfound ends the block.
    expect(runSection(compile('redundant {\n nfmod\n okmod\n}', { modules: mods({ nfmod: nf, okmod: ok }) }), newRequest())).toBe('notfound');
  });

  it('statements nested inside a child use the section\'s defaults again', () => {
    // In recv Access-Request, notfound has priority 1 and ok priority 3: the group goes on past
    // notfound and ends with ok, and the group itself (a child of redundant) returns ok.
    const req = newRequest();
    const sec = compile('redundant {\n group {\n  nfmod\n  okmod\n  reply.Filter-Id := "after"\n }\n fail\n}', { modules: mods({ nfmod: nf, okmod: ok }) });
    expect(runSection(sec, req)).toBe('ok');
    expect(attr(req, 'reply', 'Filter-Id')).toBe('after');
  });

  it('redundant-load-balance: an override passes on as in redundant', () => {
    for (let i = 0; i < 10; i++) {
      const sec = compile('redundant-load-balance {\n nfmod {\n  notfound = 1\n }\n okmod\n}', { modules: mods({ nfmod: nf, okmod: ok }) });
      expect(runSection(sec, newRequest())).toBe('ok');
    }
  });
});

describe('xlat evaluation', () => {
  it('prints values of any type', () => {
    const sec = compile('reply.Reply-Message := "%{127.0.0.1}|%{0x41}|%{(string) 0x41}|%{true}"');
    const req = newRequest();
    runSection(sec, req);
    expect(attr(req, 'reply', 'Reply-Message')).toBe('127.0.0.1|0x41|A|yes');
    void evalExpr; void boxToString;
  });
});

describe('interpreter timers on the request clock', () => {
  it('`timeout` fires when the request clock reaches the deadline, not before', async () => {
    const { FakeClock } = await import('../clock/fake');
    const clock = new FakeClock();
    const slow: ModuleMethod = () => new Promise<Rcode>(() => undefined); // never settles
    const req = new Request({ code: 1, dict, clock });
    const sec = compile('timeout 2s {\n slow\n}\nok', { modules: mods({ slow }) });
    let result: Rcode | undefined;
    void runSection(sec, req).then((r) => { result = r; });
    await new Promise((r) => setImmediate(r));
    clock.advance(1999);
    await new Promise((r) => setImmediate(r));
    expect(result).toBeUndefined();
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
    expect(result).toBe('timeout');
  });
});
