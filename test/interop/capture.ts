/**
 * Helpers for the "captured exchange" interop tests: a UDP relay that sits
 * between Debian's radclient and a server and records every datagram, a
 * runner for Debian's radclient, and a parser for its `-x` output.
 */
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';

/** One datagram that crossed the relay. */
export interface Captured {
  dir: 'request' | 'reply';
  bytes: Buffer;
}

/** A running relay: clients send to `port`, datagrams go on to the upstream. */
export interface Relay {
  port: number;
  captured: Captured[];
  close(): void;
}

/**
 * Starts a UDP relay on 127.0.0.1 that forwards every request to
 * `127.0.0.1:upstreamPort` and every reply back to the client that sent the
 * request with that ID, recording both.
 */
export async function startRelay(upstreamPort: number): Promise<Relay> {
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  const captured: Captured[] = [];
  const clientById = new Map<number, dgram.RemoteInfo>();
  front.on('message', (msg, rinfo) => {
    captured.push({ dir: 'request', bytes: Buffer.from(msg) });
    if (msg.length >= 2) clientById.set(msg[1], rinfo);
    back.send(msg, upstreamPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    captured.push({ dir: 'reply', bytes: Buffer.from(msg) });
    const to = msg.length >= 2 ? clientById.get(msg[1]) : undefined;
    if (to) front.send(msg, to.port, to.address);
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', r));
  return {
    port: front.address().port,
    captured,
    close: () => { front.close(); back.close(); },
  };
}

/** Output and exit status of one Debian radclient run. */
export interface RadclientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs Debian's `radclient` with `args`, feeding `input` on stdin (bounded by `timeoutMs`). */
export function debianRadclient(args: string[], input: string, timeoutMs = 15_000): Promise<RadclientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('radclient', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
    child.stdin.end(input);
  });
}

/** The attribute lines (`Name = value`, tab removed) radclient printed after its `Received …` line. */
export function receivedAttributes(stdout: string): string[] {
  return blockAfter(stdout, /^Received /);
}

/** The attribute lines radclient printed after its (first) `Sent …` line. */
export function sentAttributes(stdout: string): string[] {
  return blockAfter(stdout, /^Sent /);
}

function blockAfter(stdout: string, head: RegExp): string[] {
  const lines = stdout.split('\n');
  const i = lines.findIndex((l) => head.test(l));
  if (i < 0) return [];
  const out: string[] = [];
  for (let j = i + 1; j < lines.length && lines[j].startsWith('\t'); j++) out.push(lines[j].slice(1));
  return out;
}
