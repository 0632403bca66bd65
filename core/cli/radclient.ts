/**
 * `radclient`: send RADIUS packets described in FreeRADIUS pair-list text and
 * print the replies, with the options and output of FreeRADIUS 3.2's radclient.
 *
 *   radclient [options] server[:port] auth|acct|status|coa|disconnect|auto [secret]
 *
 * Packets are read from stdin or `-f file` (several `-f` allowed); a blank
 * line separates packets. Exit status: 0 when every request got the expected
 * reply (Access-Accept, Accounting-Response, CoA-ACK, Disconnect-ACK), 1
 * otherwise (reject/NAK, no reply, bad input), 2 on usage errors.
 */
import * as fs from 'node:fs';
import yargs from 'yargs';
import {
  commonOptions, loadDictionary, normalizeArgv, parseCli, parseServer, processIo, readSecretFile, sessionOptions,
  type CliIo,
} from './common';
import { COMMANDS, parseRequest, runSession, splitPackets, type Command, type RequestSpec } from './exchange';

export {
  commonOptions, loadDictionary, normalizeArgv, parseServer, processIo, readSecretFile, type CliIo,
} from './common';

const USAGE = 'Usage: radclient [options] server[:port] <command> [<secret>]';

/** Runs radclient with `argv` (without node and script). Resolves with the exit status. */
export async function radclientMain(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const parsed = parseCli(
    commonOptions(
      yargs(normalizeArgv(argv))
        .scriptName('radclient')
        .usage(`${USAGE}\n  <command> is one of auth, acct, status, coa, disconnect or auto.`)
        .option('c', { type: 'number', default: 1, description: "Send each packet 'count' times" })
        // Not `array: true`: that would swallow the positional arguments after it.
        .option('f', { type: 'string', description: 'Read packets from file, not stdin (repeatable)' })
        .option('n', { type: 'number', default: 0, description: 'Send N requests/s (0 = as fast as allowed)' })
        .option('p', { type: 'number', default: 1, description: "Send 'num' packets in parallel" })
        .option('q', { type: 'boolean', default: false, description: 'Do not print anything out' })
        .option('r', { type: 'number', default: 3, description: 'Total sends per packet when there is no reply (UDP)' })
        .option('s', { type: 'boolean', default: false, description: 'Print out summary information of auth results' })
        .option('S', { type: 'string', description: 'Read the secret from a file, not the command line' })
        .option('t', { type: 'number', default: 5, description: "Wait 'timeout' seconds before retrying (may be fractional)" }),
    ),
    (args, pos) => {
      if (pos.length < 2 || pos.length > 3) return 'expected server[:port] <command> [<secret>]';
      if (!(pos[1] in COMMANDS)) return `unknown command '${pos[1]}'`;
      if (pos.length < 3 && !args.S) return 'no secret given (argument or -S file)';
      return undefined;
    },
  );
  if (parsed === 'help') return 0;
  if ('error' in parsed) {
    io.err(`radclient: ${parsed.error}`);
    io.err(`${USAGE}   (radclient -h for the options)`);
    return 2;
  }
  const { args, pos } = parsed;
  try {
    const dict = loadDictionary(args.D);
    const command = pos[1] as Command;
    const secret = args.S ? readSecretFile(args.S) : pos[2];
    const files: string[] = args.f === undefined ? [] : ([] as string[]).concat(args.f);
    let text = '';
    if (files.length === 0 || files.includes('-')) text += (await io.stdin()) + '\n\n';
    for (const f of files) if (f !== '-') text += fs.readFileSync(f.split(':')[0], 'utf8') + '\n\n';
    const specs: RequestSpec[] = splitPackets(text).map((t, i) => parseRequest(t, dict, command, i));
    if (specs.length === 0) throw new Error('nothing to send');
    const opts = sessionOptions(args, parseServer(pos[0]), secret, dict, {
      timeout: args.t, retries: args.r, parallel: args.p, rate: args.n, count: args.c,
      debug: args.x > 0, quiet: args.q, summary: args.s,
    });
    const { summary } = await runSession(specs, opts, io);
    return summary.failed > 0 || summary.lost > 0 ? 1 : 0;
  } catch (e) {
    io.err(`radclient: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  void radclientMain(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
