/**
 * `radtest`: one Access-Request for a user, like FreeRADIUS's radtest.
 *
 *   radtest [-t pap|chap] [-P udp|tcp] [-x] [-4|-6] USER PASSWORD SERVER[:PORT] NAS-PORT SECRET [PPPHINT] [NASNAME]
 *
 * It builds the same attribute list as FreeRADIUS's script (User-Name, the
 * password attribute, NAS-IP-Address or NAS-IPv6-Address, NAS-Port,
 * Message-Authenticator, Framed-Protocol = PPP when PPPHINT is set and not 0)
 * and runs it through the radclient core with debug output on, so it prints
 * the sent request and the reply. Exit status 0 on Access-Accept, 1 otherwise.
 */
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import yargs from 'yargs';
import { quotePairString } from '../pair/text';
import {
  commonOptions, loadDictionary, normalizeArgv, parseCli, parseServer, processIo, sessionOptions, type CliIo,
} from './common';
import { parseRequest, runSession } from './exchange';

/** Authentication methods radtest can use, and the attribute carrying the password for each. */
const METHODS: Record<string, string | undefined> = { pap: 'User-Password', chap: 'CHAP-Password', mschap: undefined };

/** The NAS address radtest puts in the request: NASNAME resolved, else this host's name resolved. */
async function nasAddress(name: string | undefined, family: 4 | 6): Promise<string> {
  const host = name ?? os.hostname();
  if (net.isIP(host)) return host;
  try {
    return (await dns.lookup(host, { family })).address;
  } catch {
    return family === 6 ? '::1' : '127.0.0.1';
  }
}

/**
 * The request radtest sends, as pair-list text (the same lines FreeRADIUS's
 * radtest script pipes into radclient).
 */
export function radtestPairs(o: {
  user: string; password: string; nasPort: string; nasAddress: string; family: 4 | 6;
  method: 'pap' | 'chap'; pppHint?: string;
}): string {
  const lines = [
    `User-Name = ${quotePairString(o.user)}`,
    `${METHODS[o.method]} = ${quotePairString(o.password)}`,
    `${o.family === 6 ? 'NAS-IPv6-Address' : 'NAS-IP-Address'} = ${o.nasAddress}`,
    `NAS-Port = ${o.nasPort}`,
    'Message-Authenticator = 0x00',
  ];
  if (o.pppHint !== undefined && o.pppHint !== '' && o.pppHint !== '0') lines.push('Framed-Protocol = PPP');
  return lines.join('\n');
}

/** Runs radtest with `argv` (without node and script). Resolves with the exit status. */
export async function radtestMain(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const usage = 'Usage: radtest [OPTIONS] user passwd radius-server[:port] nas-port-number secret [ppphint] [nasname]';
  const parsed = parseCli(
    commonOptions(
      yargs(normalizeArgv(argv))
        .scriptName('radtest')
        .usage(usage)
        .option('t', { type: 'string', default: 'pap', description: 'Authentication method: pap or chap' })
        .option('d', { type: 'string', description: 'Ignored (FreeRADIUS raddb directory); use -D for dictionaries' }),
    ),
    (args, pos) => {
      if (pos.length < 5 || pos.length > 7) return 'expected 5 to 7 arguments';
      if (!(args.t in METHODS)) return `unknown method '${args.t}' (pap or chap)`;
      if (args.t === 'mschap') return 'mschap is not supported yet (use pap or chap)';
      return undefined;
    },
  );
  if (parsed === 'help') return 0;
  if ('error' in parsed) {
    io.err(`radtest: ${parsed.error}`);
    io.err(usage);
    return 2;
  }
  const { args, pos } = parsed;
  try {
    const [user, password, serverText, nasPort, secret, pppHint, nasName] = pos;
    if (!/^\d+$/.test(nasPort)) throw new Error(`NAS-Port must be a number, not '${nasPort}'`);
    const family: 4 | 6 = args.ipv6 ? 6 : 4;
    const dict = loadDictionary(args.D);
    const text = radtestPairs({
      user, password, nasPort, family, method: args.t as 'pap' | 'chap', pppHint,
      nasAddress: await nasAddress(nasName, family),
    });
    // FreeRADIUS's radtest runs radclient with -x and its defaults.
    const opts = sessionOptions(args, parseServer(serverText), secret, dict, {
      timeout: 5, retries: 3, parallel: 1, rate: 0, count: 1, debug: true, quiet: false, summary: false,
    });
    const { summary } = await runSession([parseRequest(text, dict, 'auth', 0)], opts, io);
    return summary.failed > 0 ? 1 : 0;
  } catch (e) {
    io.err(`radtest: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  void radtestMain(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
