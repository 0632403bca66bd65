import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../dict/default';
import { parsePairList } from '../pair/text';
import { RequestLogger } from '../request/request-log';
import { MemoryLogger, nullLogger } from './memory';
import { RateLimitedLog } from './rate-limit';
import { REDACTED, hasSecret, isSecretAttr, printPairListRedacted, printPairRedacted, redactValue } from '../pair/redact';
import { RotationWatcher } from './rotation';
import { ctime, ServerLog } from './server-log';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-log-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(5);
  }
}

describe('ServerLog', () => {
  it('writes FreeRADIUS-style text lines with levels and prefixes', () => {
    const file = path.join(tmp, 'sub', 'dir', 'radius.log');
    const log = ServerLog.open({ destination: { file }, level: 'info', now: () => new Date(2026, 10, 21, 3, 46, 0) });
    expect(log.debugEnabled).toBe(false);
    log.debug('hidden');
    log.info('Ready to process requests');
    log.child('files').child('users2').warn('odd entry');
    log.setLevel('debug');
    expect(log.debugEnabled).toBe(true);
    expect(log.child('x').debugEnabled).toBe(true);
    log.child('pap').debug('shown');
    log.close();
    expect(read(file)).toBe([
      'Sat Nov 21 03:46:00 2026 : Info: Ready to process requests',
      'Sat Nov 21 03:46:00 2026 : Warning: files: users2: odd entry',
      'Sat Nov 21 03:46:00 2026 : Debug: pap: shown',
      '',
    ].join('\n'));
  });

  it('writes pino JSON lines', () => {
    const file = path.join(tmp, 'json.log');
    const log = ServerLog.open({ destination: { file }, format: 'json', level: 'debug' });
    log.child('detail').error('cannot write');
    log.close();
    const rec = JSON.parse(read(file).trim());
    expect(rec).toMatchObject({ level: 'error', msg: 'detail: cannot write' });
    expect(typeof rec.time).toBe('string');
  });

  it('feeds per-request logs through requestSink', () => {
    const file = path.join(tmp, 'req.log');
    const log = ServerLog.open({ destination: { file }, timestamps: false });
    const rl = new RequestLogger(7, false, log.requestSink());
    rl.child('pap').info('login OK');
    log.close();
    expect(read(file)).toBe('(7) pap: login OK\n');
  });

  it('one call is one line: CR, LF, control characters and U+2028 in a message are escaped', () => {
    const file = path.join(tmp, 'inject.log');
    const log = ServerLog.open({ destination: { file }, timestamps: false });
    new RequestLogger(3, false, log.requestSink()).info('user bob\nforged\r\x01\x7f\u2028 a\\b\tc');
    log.child('files').warn('x\ny');
    log.close();
    expect(read(file)).toBe('(3) user bob\\nforged\\r\\001\\177\\342\\200\\250 a\\b\tc\nWarning: files: x\\ny\n');
  });

  it('drops failed writes instead of throwing', () => {
    const file = path.join(tmp, 'bad.log');
    const log = ServerLog.open({ destination: { file } });
    log.info('ok');
    // Pull the descriptor away underneath it (as a full disk or a closed stream would fail).
    const fd = (log as unknown as { core: { dest: { fd: number } } }).core.dest.fd;
    fs.closeSync(fd);
    expect(() => log.info('lost')).not.toThrow();
    expect(log.writeErrors.count).toBeGreaterThan(0);
  });

  it('the null destination writes nothing', () => {
    const log = ServerLog.open({ destination: 'null', level: 'debug', format: 'json' });
    log.child('x').error('nowhere');
    expect(log.file).toBeUndefined();
    log.close();
  });

  it('ctime matches the C format', () => {
    expect(ctime(new Date(2026, 0, 5, 7, 8, 9))).toBe('Mon Jan 05 07:08:09 2026');
  });
});

describe('rotation by inode', () => {
  it('after mv log old.log, keeps writing old.log until the check, then creates log again', async () => {
    const file = path.join(tmp, 'rot.log');
    const old = path.join(tmp, 'rot-old.log');
    const log = ServerLog.open({ destination: { file }, checkInterval: 20, timestamps: false });
    log.info('one');
    fs.renameSync(file, old);
    log.info('two'); // the descriptor still points at the renamed file
    await until(() => fs.existsSync(file));
    log.info('three');
    log.close();
    expect(read(old)).toBe('one\ntwo\n');
    expect(read(file)).toBe('three\n');
  });

  it('reopens after the file is deleted, and after it is replaced by another file', async () => {
    const file = path.join(tmp, 'rot2.log');
    const log = ServerLog.open({ destination: { file }, checkInterval: 0, timestamps: false });
    log.warn('a');
    expect(log.checkRotation()).toBe('same');
    fs.unlinkSync(file);
    expect(log.checkRotation()).toBe('missing');
    log.info('b');
    expect(read(file)).toBe('b\n');
    fs.renameSync(file, file + '.1');
    fs.writeFileSync(file, 'new\n'); // logrotate "create"
    expect(log.checkRotation()).toBe('moved');
    log.info('c');
    log.close();
    expect(read(file)).toBe('new\nc\n');
    expect(read(file + '.1')).toBe('b\n');
  });

  it('RotationWatcher reports errors instead of throwing', () => {
    const errors: unknown[] = [];
    const w = new RotationWatcher({ path: path.join(tmp, 'nope', 'x.log'), fd: () => 99999, reopen: () => { throw new Error('no'); } }, 0, (e) => errors.push(e));
    expect(w.check()).toBe('error');
    expect(errors.length).toBe(1);
    w.start();
    w.stop();
  });
});

describe('RateLimitedLog', () => {
  it('lets a burst through per key and interval, then reports what it suppressed', () => {
    let now = 0;
    const mem = new MemoryLogger(false);
    const rl = new RateLimitedLog(mem, { burst: 2, interval: 1000, now: () => now, timer: false });
    for (let i = 0; i < 5; i++) rl.warn('unknown client 10.0.0.1', `Ignoring request from unknown client 10.0.0.1 (${i})`);
    expect(rl.warn('unknown client 10.0.0.2', 'Ignoring request from unknown client 10.0.0.2')).toBe(true);
    expect(mem.text()).toEqual([
      'Ignoring request from unknown client 10.0.0.1 (0)',
      'Ignoring request from unknown client 10.0.0.1 (1)',
      'Ignoring request from unknown client 10.0.0.2',
    ]);
    now = 1500;
    rl.warn('unknown client 10.0.0.1', 'again');
    expect(mem.text().slice(3)).toEqual(['unknown client 10.0.0.1: suppressed 3 similar messages', 'again']);
    rl.warn('unknown client 10.0.0.1', 'x');
    rl.warn('unknown client 10.0.0.1', 'y');
    now = 5000;
    rl.flush();
    expect(mem.text().slice(5)).toEqual(['x', 'unknown client 10.0.0.1: suppressed 1 similar message']);
    expect(mem.lines.at(-1)!.level).toBe('warn');
    expect(rl.size).toBe(0);
  });

  it('bounds the number of keys', () => {
    const mem = new MemoryLogger(false);
    const rl = new RateLimitedLog(mem, { burst: 1, interval: 1000, maxKeys: 3, now: () => 0, timer: false });
    for (let i = 0; i < 100; i++) rl.info(`k${i}`, `m${i}`);
    expect(rl.size).toBe(4); // three keys plus the shared "*"
    expect(mem.text()).toEqual(['m0', 'm1', 'm2', 'm3']);
    rl.close();
    expect(mem.text().at(-1)).toBe('*: suppressed 96 similar messages');
  });

  it('reports from its timer when the flood stops', async () => {
    const mem = new MemoryLogger(false);
    const rl = new RateLimitedLog(mem, { burst: 1, interval: 30 });
    rl.error('k', 'a');
    rl.error('k', 'b');
    await until(() => mem.text().includes('k: suppressed 1 similar message'));
    rl.close();
  });
});

describe('redaction', () => {
  const dict = loadDefaultDictionary();
  it('knows secret attributes from the dictionary', () => {
    for (const n of ['User-Password', 'Tunnel-Password', 'Password.Cleartext', 'Password.NT']) {
      expect(isSecretAttr(dict.resolve(n)!), n).toBe(true);
    }
    for (const n of ['User-Name', 'Reply-Message', 'Password']) expect(isSecretAttr(dict.resolve(n)!), n).toBe(false);
    expect(redactValue(dict.resolve('User-Password')!, '"hello"')).toBe(REDACTED);
    expect(redactValue(dict.resolve('User-Name')!, '"bob"')).toBe('"bob"');
  });

  it('prints pairs without secret values', () => {
    const pairs = parsePairList('User-Name = "bob", User-Password = "hello", Password.Cleartext = "wonder", Tunnel-Password = "tp"', dict);
    const text = printPairListRedacted(pairs);
    expect(text).not.toMatch(/hello|wonder|"tp"/);
    expect(text).toBe(`User-Name = "bob", User-Password = ${REDACTED}, Password = { Cleartext = ${REDACTED} }, Tunnel-Password = ${REDACTED}`);
    const [mixed] = parsePairList('Password = { Cleartext = "a", Crypt = "b" }', dict);
    expect(hasSecret(mixed)).toBe(true);
    expect(printPairRedacted(mixed)).toBe(`Password = { Cleartext = ${REDACTED}, Crypt = "b" }`);
  });

  it('nullLogger drops everything', () => {
    nullLogger.child('x').error('y');
    expect(nullLogger.debugEnabled).toBe(false);
  });
});
