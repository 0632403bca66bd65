/**
 * What radclient and radtest share on the command line: server and secret
 * arguments, the yargs options both take, argument parsing with usage errors,
 * the session settings built from them, and the process streams.
 */
import * as fs from 'node:fs';
import yargs from 'yargs';
import type { Dictionary } from '../dict/dictionary';
import { Dictionary as Dict } from '../dict/dictionary';
import { loadDefaultDictionary } from '../dict/default';
import type { Transport } from './client';
import type { Output, SessionOptions } from './exchange';

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
      description: 'Drop Access-Accept/Reject/Challenge replies that lack a Message-Authenticator',
    });
}

/** Options both tools define in {@link commonOptions}, as parsed. */
export interface CommonArgs {
  ipv4?: boolean;
  ipv6?: boolean;
  P: string;
  x: number;
  D?: string;
  'message-authenticator': boolean;
  'require-message-authenticator': boolean;
}

/**
 * Parses `parser` without exiting the process. Returns the arguments and the
 * positionals (as strings), `'help'` when `-h` was given, or a usage error
 * (yargs's own, or the one `check` finds).
 */
export function parseCli<A>(
  parser: yargs.Argv<A>,
  check: (args: A, pos: string[]) => string | undefined,
): { args: A; pos: string[] } | { error: string } | 'help' {
  let failed: string | undefined;
  const p = parser
    .parserConfiguration({ 'parse-positional-numbers': false })
    .help('h')
    .version(false)
    .strictOptions()
    .exitProcess(false)
    .fail((msg, e) => { failed = msg || e?.message || 'bad arguments'; });
  let args: (A & { _: (string | number)[]; h?: unknown }) | undefined;
  try {
    args = p.parseSync() as A & { _: (string | number)[]; h?: unknown };
  } catch (e) {
    failed ??= (e as Error).message;
  }
  if (failed || !args) return { error: failed ?? 'bad arguments' };
  if (args.h) return 'help';
  const pos = args._.map(String);
  const error = check(args, pos);
  return error ? { error } : { args, pos };
}

/**
 * Session settings from the common options; `rest` supplies what differs
 * between the tools (timeouts, counts, output modes).
 */
export function sessionOptions(
  args: CommonArgs,
  server: { host: string; port?: number },
  secret: string,
  dict: Dictionary,
  rest: Pick<SessionOptions, 'timeout' | 'retries' | 'parallel' | 'rate' | 'count' | 'debug' | 'quiet' | 'summary'>,
): SessionOptions {
  return {
    host: server.host,
    port: server.port,
    family: args.ipv6 ? 6 : args.ipv4 ? 4 : undefined,
    transport: args.P as Transport,
    secret: Buffer.from(secret, 'utf8'),
    dict,
    messageAuthenticator: args['message-authenticator'],
    requireMessageAuthenticator: args['require-message-authenticator'],
    ...rest,
  };
}
