/**
 * Unlang interpreter micro-benchmark.
 *
 *   npm run build && node dist/bench/unlang.bench.js [--ms 1000] [--runs 5] [--json]
 *
 * Cases:
 * - `sync section` (request reused, reply/control emptied before each run) and
 *   `sync section + new Request` (a fresh 4-pair request each time):: a representative synchronous policy of ~10 instructions
 *   (conditions on request attributes, a switch, edits of reply and control, a
 *   module call and rcode merging), run to completion for a fresh request each time.
 *   No Promise is created on this path.
 * - `yield section`: the same section, with the module returning a resolved
 *   Promise (the request parks and resumes once). The difference per execution is
 *   the added cost of one yield.
 *
 * Reported: median executions per CPU-second of this process (user + system time, so
 * a busy machine does not skew it) over the runs, and the derived yield cost in µs.
 */
import { loadDefaultDictionary } from '../core/dict/default';
import type { ModuleHandle, ModuleMethod } from '../core/unlang/module-call';
import { Pair } from '../core/pair/pair';
import { Request } from '../core/request/request';
import { compileUnlang } from '../core/unlang';
import { Execution } from '../core/unlang/interpret/interpreter';

const dict = loadDefaultDictionary();
const args = process.argv.slice(2);
const argNum = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const MS = argNum('--ms', 1000);
const RUNS = argNum('--runs', 5);
const JSON_OUT = args.includes('--json');

const POLICY = `
if (User-Name == "bob" && NAS-Port < 100) {
	reply.Reply-Message := "Hello bob"
}
elsif (!Calling-Station-Id) {
	reject
}
switch Service-Type {
	case ::Framed-User {
		reply.Framed-IP-Address := 192.0.2.10
	}
	default {
		noop
	}
}
control.Auth-Type := ::PAP
authz
reply.Session-Timeout := 3600
if (ok) {
	reply.Idle-Timeout += 600
}
`;

const syncMethod: ModuleMethod = () => 'ok';
const asyncMethod: ModuleMethod = () => Promise.resolve('ok');

function section(method: ModuleMethod) {
  const modules = (name: string): ModuleHandle | undefined => (name === 'authz' ? { name, method: () => method } : undefined);
  return compileUnlang(POLICY, { dict, modules, file: 'bench.unlang' });
}

const userName = dict.resolve('User-Name')!;
const nasPort = dict.resolve('NAS-Port')!;
const calling = dict.resolve('Calling-Station-Id')!;
const serviceType = dict.resolve('Service-Type')!;

function request(): Request {
  const r = new Request({ code: 1, dict, number: 1 });
  r.request.push(new Pair(userName, 'bob'), new Pair(nasPort, 7), new Pair(calling, '02-00-00-00-00-01'), new Pair(serviceType, 2));
  return r;
}

/** CPU time (user + system) of this process in seconds: robust against a busy machine. */
function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Executions per CPU-second; `fresh` builds a new Request (4 pairs) for every execution. */
function runSync(sec: ReturnType<typeof section>, ms: number, fresh: boolean): number {
  let n = 0;
  const end = performance.now() + ms;
  const reused = request();
  const c0 = cpu();
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) {
      let req: Request;
      if (fresh) req = request();
      else {
        // Same input, empty reply/control: the section does the same work every time.
        req = reused;
        req.reply.length = 0;
        req.control.length = 0;
      }
      const ex = new Execution(sec, req);
      if (ex.start() !== 'ok') throw new Error('unexpected result');
    }
    n += 1000;
  }
  return n / (cpu() - c0);
}

async function runAsync(sec: ReturnType<typeof section>, ms: number): Promise<number> {
  let n = 0;
  const end = performance.now() + ms;
  const c0 = cpu();
  while (performance.now() < end) {
    // 100 requests in flight at once, as a server would have them.
    const batch: Promise<string>[] = [];
    for (let i = 0; i < 100; i++) {
      const ex = new Execution(sec, request());
      if (ex.start() === undefined) batch.push(ex.promise);
    }
    await Promise.all(batch);
    n += 100;
  }
  return n / (cpu() - c0);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const syncSec = section(syncMethod);
  const asyncSec = section(asyncMethod);
  // Warm up.
  runSync(syncSec, 200, true);
  runSync(syncSec, 200, false);
  await runAsync(asyncSec, 200);
  const sync: number[] = [];
  const syncFresh: number[] = [];
  const yielded: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    sync.push(runSync(syncSec, MS, false));
    syncFresh.push(runSync(syncSec, MS, true));
    yielded.push(await runAsync(asyncSec, MS));
  }
  const s = median(sync);
  const sf = median(syncFresh);
  const y = median(yielded);
  const yieldCostUs = (1e6 / y) - (1e6 / sf);
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ syncPerSec: Math.round(s), syncFreshRequestPerSec: Math.round(sf), yieldPerSec: Math.round(y), yieldCostUs: +yieldCostUs.toFixed(3), node: process.version }) + '\n');
    return;
  }
  process.stdout.write(`unlang bench (node ${process.version}, ${RUNS} runs × ${MS} ms, ~10-instruction section)\n`);
  process.stdout.write(`  sync section:  ${Math.round(s).toLocaleString('en-US')} executions per CPU-second (${(1e6 / s).toFixed(3)} µs each)\n`);
  process.stdout.write(`  sync section + new Request (4 pairs) each time: ${Math.round(sf).toLocaleString('en-US')} per CPU-second (${(1e6 / sf).toFixed(3)} µs each)\n`);
  process.stdout.write(`  yield section + new Request, 100 in flight: ${Math.round(y).toLocaleString('en-US')} per CPU-second (${(1e6 / y).toFixed(3)} µs each)\n`);
  process.stdout.write(`  added cost of one yield: ${yieldCostUs.toFixed(3)} µs\n`);
}

void main();
