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
import type { Dictionary } from '../dict/dictionary';
import { Dictionary as Dict } from '../dict/dictionary';
import { loadDefaultDictionary } from '../dict/default';
import type { Transport } from './client';
import {
  COMMANDS, parseRequest, runSession, splitPackets, type Command, type Output, type RequestSpec, type SessionOptions,
} from './exchange';

/** `host[:port]` → host and optional port; IPv6 literals as `[::1]:1812` or a bare `::1`. */
export function parseServer(text: string): { host: string; port?: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) return { host: bracket[1], port: bracket[2] ? Number(bracket[2]) : undefined };
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = text.split(':');
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new Error(`invalid port in '${text}'`);
    return { host, port: Number(port) };
  }
  return { host: text };
}

/** radclient's `-4`/`-6` look like numbers to yargs; give them names first. */
export function normalizeArgv(argv: readonly string[]): string[] {
  return argv.map((a) => (a === '-4' ? '--ipv4' : a === '-6' ? '--ipv6' : a));
}

/** Reads the secret from a file: its first line, without the line ending. */
export function readSecretFile(path: string): string {
  const line = fs.readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '';
  if (!line) throw new Error(`no secret in ${path}`);
  return line;
}

/** Loads `-D dir` (a FreeRADIUS-format dictionary directory) or our default dictionary. */
export function loadDictionary(dir?: string): Dictionary {
  return dir ? Dict.load(dir) : loadDefaultDictionary();
}

/** Standard streams of a CLI run (replaceable in tests). */
export interface CliIo extends Output {
  /** Reads all of stdin. */
  stdin(): Promise<string>;
}

/** The process's own streams. */
export function processIo(): CliIo {
  // A closed pipe (`radclient … | head`) ends the output quietly, as C tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); });
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    stdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** Options common to radclient and radtest, parsed by yargs. */
export function commonOptions<T>(y: yargs.Argv<T>) {
  return y
    .option('ipv4', { type: 'boolean', description: 'Use the IPv4 address of the server (-4)' })
    .option('ipv6', { type: 'boolean', description: 'Use the IPv6 address of the server (-6)' })
    .option('P', { type: 'string', choices: ['udp', 'tcp'], default: 'udp', description: 'Transport protocol (TCP per RFC 6613)' })
    .option('x', { type: 'count', description: 'Debug output: print sent and received packets with their attributes' })
    .option('D', { type: 'string', description: 'Dictionary directory (default: the bundled dictionaries)' })
    .option('message-authenticator', {
      type: 'boolean', default: true,
      description: 'Add Message-Authenticator to Access-Request and Status-Server (use --no-message-authenticator to omit it)',
    })
    .option('require-message-authenticator', {
      type: 'boolean', default: false,
      description: 'Drop Access-Request/Status-Server replies that lack a Message-Authenticator',
    });
}

/** Runs radclient with `argv` (without node and script). Resolves with the exit status. */
export async function radclientMain(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let usageError: string | undefined;
  const parser = commonOptions(
    yargs(normalizeArgv(argv))
      .scriptName('radclient')
      .usage('Usage: $0 [options] server[:port] <command> [<secret>]\n  <command> is one of auth, acct, status, coa, disconnect or auto.')
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
  )
    .parserConfiguration({ 'parse-positional-numbers': false })
    .help('h')
    .version(false)
    .strictOptions()
    .exitProcess(false)
    .fail((msg, e) => { usageError = msg || e?.message || 'bad arguments'; });

  let args;
  try {
    args = parser.parseSync();
  } catch (e) {
    usageError ??= (e as Error).message;
  }
  if (args && args.h) return 0;
  const pos = (args?._ ?? []).map(String);
  if (!usageError && (pos.length < 2 || pos.length > 3)) usageError = 'expected server[:port] <command> [<secret>]';
  if (!usageError && !(pos[1] in COMMANDS)) usageError = `unknown command '${pos[1]}'`;
  if (!usageError && pos.length < 3 && !args!.S) usageError = 'no secret given (argument or -S file)';
  if (usageError || !args) {
    io.err(`radclient: ${usageError}`);
    io.err('Usage: radclient [options] server[:port] <command> [<secret>]   (radclient -h for the options)');
    return 2;
  }

  try {
    const dict = loadDictionary(args.D);
    const command = pos[1] as Command;
    const secret = args.S ? readSecretFile(args.S) : pos[2];
    const server = parseServer(pos[0]);
    const files: string[] = args.f === undefined ? [] : ([] as string[]).concat(args.f);
    let text = '';
    if (files.length === 0 || files.includes('-')) text += (await io.stdin()) + '\n\n';
    for (const f of files) if (f !== '-') text += fs.readFileSync(f.split(':')[0], 'utf8') + '\n\n';
    const specs: RequestSpec[] = splitPackets(text).map((t, i) => parseRequest(t, dict, command, i));
    if (specs.length === 0) throw new Error('nothing to send');
    const opts: SessionOptions = {
      host: server.host,
      port: server.port,
      family: args.ipv6 ? 6 : args.ipv4 ? 4 : undefined,
      transport: args.P as Transport,
      secret: Buffer.from(secret, 'utf8'),
      dict,
      timeout: args.t,
      retries: args.r,
      parallel: args.p,
      rate: args.n,
      count: args.c,
      messageAuthenticator: args['message-authenticator'],
      requireMessageAuthenticator: args['require-message-authenticator'],
      debug: args.x > 0,
      quiet: args.q,
      summary: args.s,
    };
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
