/**
 * `nassim`: the VX NAS simulator on the command line (see simulator.ts).
 *
 *   nassim [options] SERVER SECRET
 *     --auth-port 1812 --acct-port 1813      the server's ports
 *     --user NAME:PASSWORD                    (repeatable) users to log in, cycled
 *     --sessions N                            sessions to run through the whole flow (default 1)
 *     --interims N --interval MS              Interim-Updates per session and the pause between packets
 *     --concurrency N                         sessions in flight at once
 *     --nas-ip ADDR                           NAS-IP-Address / NAS-IPv6-Address (default 127.0.0.1)
 *     --coa-address ADDR --coa-port N         where CoA/Disconnect are answered (default 127.0.0.1:3799)
 *     --hold SECONDS                          keep the sessions up (answering CoA/Disconnect) this long before Stop
 *     --json                                  print the report as JSON
 *
 * Prints a report (sessions per second, p50/p99 per packet type) and every CoA/Disconnect it
 * answered. Exit status 0 when every session completed.
 */
import yargs from 'yargs';
import { loadDictionary, normalizeArgv, processIo, type CliIo } from '../common';
import { NasSimulator, type SimSession } from './simulator';

/** Runs nassim; resolves with the exit status. */
export async function nassimMain(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const a = await yargs(normalizeArgv(argv))
    .scriptName('nassim')
    .usage('$0 [options] SERVER SECRET')
    .option('auth-port', { type: 'number', default: 1812 })
    .option('acct-port', { type: 'number', default: 1813 })
    .option('user', { type: 'string', array: true, default: ['bob:hello'] as string[] })
    .option('sessions', { type: 'number', default: 1 })
    .option('interims', { type: 'number', default: 3 })
    .option('interval', { type: 'number', default: 0 })
    .option('concurrency', { type: 'number', default: 64 })
    .option('nas-ip', { type: 'string', default: '127.0.0.1' })
    .option('coa-address', { type: 'string', default: '127.0.0.1' })
    .option('coa-port', { type: 'number', default: 3799 })
    .option('coa-secret', { type: 'string' })
    .option('hold', { type: 'number', default: 0 })
    .option('dict', { type: 'string' })
    .option('json', { type: 'boolean', default: false })
    .demandCommand(2)
    .strict()
    .exitProcess(false)
    .fail((msg, err) => { throw err ?? new Error(msg); })
    .parse();
  const [server, secret] = a._.map(String);
  const users = (a.user as string[]).map((u) => {
    const i = u.indexOf(':');
    return i < 0 ? { name: u, password: '' } : { name: u.slice(0, i), password: u.slice(i + 1) };
  });
  const sim = new NasSimulator({
    dict: loadDictionary(a.dict), server, secret, authPort: a['auth-port'], acctPort: a['acct-port'],
    nasIp: a['nas-ip'], coaAddress: a['coa-address'], coaPort: a['coa-port'], coaSecret: a['coa-secret'],
  });
  await sim.open();
  sim.on('coa', (s: SimSession, applied: Record<string, string>) => io.out(`CoA-ACK session ${s.id} (${s.user}): ${Object.entries(applied).map(([k, v]) => `${k} = ${v}`).join(', ')}`));
  sim.on('disconnect', (s: SimSession) => io.out(`Disconnect-ACK session ${s.id} (${s.user}): stopped`));
  sim.on('nak', (kind: string, id: string, cause: number) => io.out(`${kind === 'coa' ? 'CoA' : 'Disconnect'}-NAK session ${id}: Error-Cause ${cause}`));
  try {
    if (a.hold > 0) {
      // Interactive: log in, start, keep the sessions up for CoA/Disconnect, then stop.
      const held: SimSession[] = [];
      for (let i = 0; i < a.sessions; i++) {
        const u = users[i % users.length];
        const s = await sim.login(u.name, u.password);
        if (s.state !== 'authorized') { io.err(`${u.name}: rejected`); continue; }
        await sim.start(s);
        io.out(`session ${s.id} user ${s.user} ${Object.entries(s.granted).map(([k, v]) => `${k}=${v}`).join(' ')}`);
        held.push(s);
      }
      await new Promise((r) => setTimeout(r, a.hold * 1000));
      for (const s of held) if (s.state === 'active') await sim.stop(s);
      return held.length === a.sessions ? 0 : 1;
    }
    const r = await sim.run({ sessions: a.sessions, users, interims: a.interims, intervalMs: a.interval, concurrency: a.concurrency });
    if (a.json) {
      io.out(JSON.stringify(r, null, 2));
    } else {
      io.out(`${r.completed}/${r.sessions} sessions completed (${r.rejected} rejected) in ${r.seconds.toFixed(2)} s: ${r.sessionsPerSecond.toFixed(1)} sessions/s`);
      io.out('packet     count  failed   p50 ms   p99 ms');
      for (const [k, l] of Object.entries(r.latency)) {
        io.out(`${k.padEnd(9)} ${String(l.count).padStart(6)} ${String(l.failed).padStart(7)} ${l.p50.toFixed(2).padStart(8)} ${l.p99.toFixed(2).padStart(8)}`);
      }
    }
    return r.completed === r.sessions ? 0 : 1;
  } finally {
    await sim.close();
  }
}
