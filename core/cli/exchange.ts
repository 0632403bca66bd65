/**
 * The packet half of the client tools, shared by `radclient` and `radtest`:
 * turning FreeRADIUS pair-list text into requests, sending them through
 * {@link RadiusClient}, verifying and printing the replies the way FreeRADIUS
 * 3.2's radclient does, and counting the results. All packet work goes
 * through `core/protocol/radius`; all socket work through `client.ts`.
 */
import * as crypto from 'node:crypto';
import type { DictAttr } from '../dict/attr';
import type { Dictionary } from '../dict/dictionary';
import { Pair } from '../pair/pair';
import { parsePairList, printPairLines } from '../pair/text';
import { verifyReply, type MaPolicy } from '../client/reply';
import { RequestEncoder, requestAuthenticator } from '../client/request';
import {
  PacketCode, decodePacket, md5, packetCodeName, type RadiusPacket,
} from '../protocol/radius';
import { RadiusClient, runAll, type ExchangeResult, type Transport } from './client';

/** The radclient commands and the packet code each one sends. */
export const COMMANDS = {
  auth: PacketCode.AccessRequest,
  acct: PacketCode.AccountingRequest,
  status: PacketCode.StatusServer,
  coa: PacketCode.CoARequest,
  disconnect: PacketCode.DisconnectRequest,
  auto: 0,
} as const;

/** A radclient command name. */
export type Command = keyof typeof COMMANDS;

/** The default UDP/TCP port for a request code (RFC 2865, 2866, 5176). */
export function defaultPort(code: number): number {
  if (code === PacketCode.AccountingRequest) return 1813;
  if (code === PacketCode.CoARequest || code === PacketCode.DisconnectRequest) return 3799;
  return 1812;
}

/** The reply codes that count as success ("passed filter") for a request code. */
export function expectedReplies(code: number): number[] {
  switch (code) {
    case PacketCode.AccessRequest: return [PacketCode.AccessAccept];
    case PacketCode.AccountingRequest: return [PacketCode.AccountingResponse];
    case PacketCode.StatusServer: return [PacketCode.AccessAccept, PacketCode.AccountingResponse];
    case PacketCode.CoARequest: return [PacketCode.CoAACK];
    case PacketCode.DisconnectRequest: return [PacketCode.DisconnectACK];
    default: return [];
  }
}

/** One request read from the input, before it gets an ID. */
export interface RequestSpec {
  /** Packet code to send. */
  code: number;
  /** Attributes to encode (internal attributes already removed). */
  pairs: Pair[];
  /** Password to turn into CHAP-Password (from a CHAP-Password or Cleartext-Password item). */
  chapPassword?: Buffer;
  /** Where in `pairs` the CHAP-Password goes (its place in the input). */
  chapIndex?: number;
  /** Reply codes that count as success (`Response-Packet-Type` overrides the default). */
  expect: number[];
  /** Position in the input, 0-based (printed as `(N)` in messages). */
  index: number;
}

/** Splits radclient input into packets: blank lines (or lines with only spaces) separate them. */
export function splitPackets(text: string): string[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((s) => s.trim())
    .filter((s) => s.replace(/^\s*#.*$/gm, '').trim() !== '');
}

function attr(dict: Dictionary, name: string): DictAttr | undefined {
  try {
    return dict.resolve(name);
  } catch {
    return undefined;
  }
}

/**
 * Parses one packet's text into a {@link RequestSpec}. `Packet-Type` chooses
 * the code for the `auto` command; `Response-Packet-Type` the expected reply;
 * CHAP-Password (or Cleartext-Password) is the cleartext password from which
 * the CHAP response is computed at send time, as FreeRADIUS's radclient does.
 * Other internal attributes are dropped. Throws `Error` on bad text.
 */
export function parseRequest(text: string, dict: Dictionary, command: Command, index: number): RequestSpec {
  const all = parsePairList(text, dict);
  let code: number = COMMANDS[command];
  let expect: number[] | undefined;
  let chapPassword: Buffer | undefined;
  let cleartext: Buffer | undefined;
  let chapIndex: number | undefined;
  const chapDa = attr(dict, 'CHAP-Password');
  const clearDa = attr(dict, 'Cleartext-Password');
  const pairs: Pair[] = [];
  for (const p of all) {
    const name = p.da.name;
    if (p.da === chapDa) {
      // Placeholder: the value is computed per send from the password and the challenge.
      chapIndex = pairs.length;
      chapPassword = toBytes(p.value);
      pairs.push(p);
      continue;
    }
    if (p.da === clearDa) { cleartext = toBytes(p.value); continue; }
    if (p.da.flags.internal) {
      if (name === 'Packet-Type' && typeof p.value === 'number' && command === 'auto') code = p.value;
      else if (name === 'Response-Packet-Type' && typeof p.value === 'number') expect = [p.value];
      continue;
    }
    pairs.push(p);
  }
  if (code === 0) {
    // FreeRADIUS's radclient guesses from the attributes when `auto` has no Packet-Type.
    const has = (n: string): boolean => pairs.some((p) => p.da.name === n);
    if (has('Acct-Status-Type')) code = PacketCode.AccountingRequest;
    else if (has('User-Password') || chapIndex !== undefined) code = PacketCode.AccessRequest;
    else throw new Error('cannot tell the packet type: add Packet-Type or use auth/acct/status/coa/disconnect');
  }
  if (chapIndex !== undefined && cleartext && (!chapPassword || chapPassword.length === 0)) chapPassword = cleartext;
  return { code, pairs, chapPassword, chapIndex, expect: expect ?? expectedReplies(code), index };
}

function toBytes(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  return Buffer.from(String(v ?? ''), 'utf8');
}

/**
 * CHAP-Password value (RFC 1994 / RFC 2865 §5.3): the CHAP ID followed by
 * MD5(ID ‖ password ‖ challenge).
 */
export function chapResponse(chapId: number, password: Buffer, challenge: Buffer): Buffer {
  const out = Buffer.alloc(17);
  out[0] = chapId & 0xff;
  md5(Buffer.concat([out.subarray(0, 1), password, challenge])).copy(out, 1);
  return out;
}

/** Settings shared by radclient and radtest. */
export interface SessionOptions {
  host: string;
  port?: number;
  family?: 4 | 6;
  transport?: Transport;
  secret: Buffer;
  dict: Dictionary;
  /** Seconds before a retransmission (UDP) or giving up. */
  timeout: number;
  /** Total sends per request (FreeRADIUS's `-r`). */
  retries: number;
  /** Requests in flight at once. */
  parallel: number;
  /** New requests per second (0 = unlimited). */
  rate: number;
  /** Send each request this many times. */
  count: number;
  /** Add Message-Authenticator to Access-Request and Status-Server (default true; BlastRADIUS). */
  messageAuthenticator: boolean;
  /** Drop Access-Accept/Reject/Challenge replies without a Message-Authenticator (BlastRADIUS). */
  requireMessageAuthenticator: boolean;
  /** Print sent and received packets with all attributes. */
  debug: boolean;
  /** Print nothing but errors. */
  quiet: boolean;
  /** Print the packet summary at the end. */
  summary: boolean;
}

/** Where the tools write. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** Counts as printed by `-s` (FreeRADIUS's "Packet summary"). */
export interface Summary {
  accepted: number;
  rejected: number;
  lost: number;
  passed: number;
  failed: number;
}

/** What one request ended with. */
export interface RequestOutcome {
  spec: RequestSpec;
  result?: ExchangeResult;
  /** The verified reply, decoded. */
  reply?: RadiusPacket;
  /** True when the reply code is one of `spec.expect`. */
  passed: boolean;
}

function addr(a: { address: string; port: number }): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** The header line FreeRADIUS prints for a packet. */
function headline(verb: 'Sent' | 'Received', buf: Buffer, from: string, to: string): string {
  return `${verb} ${packetCodeName(buf[0])} Id ${buf[1]} from ${from} to ${to} length ${buf.length}`;
}

/**
 * Sends every request (each `count` times) and prints what radclient prints.
 * Returns the outcomes in input order; never throws for network problems
 * (those show up as lost requests).
 */
export async function runSession(specs: readonly RequestSpec[], o: SessionOptions, io: Output): Promise<{ outcomes: RequestOutcome[]; summary: Summary }> {
  const jobs: RequestSpec[] = [];
  for (const s of specs) for (let i = 0; i < Math.max(1, o.count); i++) jobs.push(s);
  const ports = new Set(jobs.map((s) => o.port ?? defaultPort(s.code)));
  const clients = new Map<number, RadiusClient>();
  for (const port of ports) {
    clients.set(port, await RadiusClient.open(
      { host: o.host, port, family: o.family, transport: o.transport, timeout: o.timeout, attempts: o.retries },
      {
        sent: (b, attempt, local) => {
          if (o.quiet) return;
          const remote = clients.get(port)!.remote;
          io.out(headline('Sent', b, addr(local), addr(remote)));
          if (o.debug && attempt === 1) {
            const d = decodePacket(b, { dict: o.dict, secret: o.secret, verify: false });
            if (d.ok && d.packet.pairs.length) io.out(printPairLines(d.packet.pairs));
          }
        },
        dropped: (b, why) => io.err(`radclient: Received bad packet from ${addr(clients.get(port)!.remote)} Id ${b[1]}: ${why}`),
      },
    ));
  }
  const encoder = new RequestEncoder(o.dict, o.secret, o.messageAuthenticator);
  const maPolicy: MaPolicy = { requireMa: () => o.requireMessageAuthenticator };
  const outcomes: RequestOutcome[] = [];
  const summary: Summary = { accepted: 0, rejected: 0, lost: 0, passed: 0, failed: 0 };
  /** Counts and prints one finished request, as soon as it finishes. */
  const settle = (oc: RequestOutcome): void => {
    const r = oc.result!;
    if (!oc.reply || !r.reply) {
      summary.lost++;
      summary.failed++;
      io.err(`(${oc.spec.index}) No reply from server for ID ${r.request[1]} socket ${r.local.port}`);
      return;
    }
    if (!o.quiet) printReply(oc, io, o.debug || !o.summary);
    const code = oc.reply.code;
    if (code === PacketCode.AccessReject || code === PacketCode.CoANAK || code === PacketCode.DisconnectNAK) summary.rejected++;
    else summary.accepted++;
    oc.passed = oc.spec.expect.includes(code);
    if (oc.passed) summary.passed++;
    else {
      summary.failed++;
      io.err(`(${oc.spec.index}) -: Expected ${oc.spec.expect.map(packetCodeName).join(' or ')} got ${packetCodeName(code)}`);
    }
  };
  try {
    await runAll(jobs, (spec) => {
      const client = clients.get(o.port ?? defaultPort(spec.code))!;
      let reqAuth: Buffer = Buffer.alloc(16);
      const outcome: RequestOutcome = { spec, passed: false };
      outcomes.push(outcome);
      return client.send({
        build: (id) => {
          const pairs = [...spec.pairs];
          const authenticator = crypto.randomBytes(16);
          if (spec.chapIndex !== undefined && spec.chapPassword) {
            // RFC 2865 §2.2: without CHAP-Challenge the Request Authenticator is the challenge.
            const challengePair = pairs.find((p) => p.da.name === 'CHAP-Challenge');
            const challenge = challengePair && Buffer.isBuffer(challengePair.value) ? challengePair.value : authenticator;
            const chap = pairs[spec.chapIndex];
            pairs[spec.chapIndex] = new Pair(chap.da, chapResponse(crypto.randomInt(256), spec.chapPassword, challenge));
          }
          const bytes = encoder.encode(spec.code, id, pairs, authenticator);
          reqAuth = requestAuthenticator(bytes);
          return bytes;
        },
        accept: (buf) => {
          const d = verifyReply(buf, { dict: o.dict, secret: o.secret, requestAuthenticator: reqAuth, requestCode: spec.code }, maPolicy);
          if (!d.ok) return d.message;
          outcome.reply = d.packet;
          return true;
        },
      }).then((r) => {
        outcome.result = r;
        settle(outcome);
        return r;
      });
    }, o.parallel, o.rate);
  } finally {
    for (const c of clients.values()) c.close();
  }
  if (o.summary) {
    io.out('Packet summary:');
    io.out(`\tAccepted      : ${summary.accepted}`);
    io.out(`\tRejected      : ${summary.rejected}`);
    io.out(`\tLost          : ${summary.lost}`);
    io.out(`\tPassed filter : ${summary.passed}`);
    io.out(`\tFailed filter : ${summary.failed}`);
  }
  return { outcomes, summary };
}

/**
 * Prints one verified reply: the header line and, with `attributes`, one
 * `\tName = value` line per attribute.
 */
export function printReply(oc: RequestOutcome, io: Output, attributes: boolean): void {
  const r = oc.result!;
  io.out(headline('Received', r.reply!, addr(r.remote), addr(r.local)));
  if (attributes && oc.reply!.pairs.length) io.out(printPairLines(oc.reply!.pairs));
}
