/**
 * Issue 4 §6: the documented configuration, written verbatim into an empty directory with a
 * `users` file beside it, run with `radiusd -d DIR -f`, exercised with Debian's radclient.
 * The two files are `test/fixtures/verbatim/radiusd.conf` and `users`, the text
 * byte for byte (tabs included), unchanged but for the two port numbers (18121, 18131), which
 * are replaced by free ports so that the test never depends on a fixed port being free.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERBATIM_FILES } from '../fixtures/verbatim';
import { freePorts } from '../interop/freeradius';
import { daemonForSuite, radclient } from './harness';

describe('issue 4 §6 configuration, verbatim, with Debian radclient', () => {
  let AUTH = '';
  let ACCT = '';
  const s = daemonForSuite('verbatim', async () => {
    const [auth, acct] = await freePorts(2);
    [AUTH, ACCT] = [`127.0.0.1:${auth}`, `127.0.0.1:${acct}`];
    const conf = VERBATIM_FILES['radiusd.conf'].replace('port = 18121', `port = ${auth}`).replace('port = 18131', `port = ${acct}`);
    expect(conf).not.toMatch(/1812[0-9]|1813[0-9]/);
    return { ...VERBATIM_FILES, 'radiusd.conf': conf };
  });

  it('bob/hello: Access-Accept with Reply-Message, Framed-IP-Address and Session-Timeout', async () => {
    const r = await radclient(AUTH, 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n');
    expect(r.stdout).toMatch(/Received Access-Accept/);
    expect(r.stdout).toMatch(/Reply-Message = "Hello, bob"/);
    expect(r.stdout).toMatch(/Framed-IP-Address = 192\.0\.2\.10/);
    expect(r.stdout).toMatch(/Session-Timeout = 3600/);
    expect(r.code).toBe(0);
  });

  it('alice/wonderland (v3 Cleartext-Password): Access-Accept', async () => {
    const r = await radclient(AUTH, 'auth', 'testing123', 'User-Name = "alice", User-Password = "wonderland"\n');
    expect(r.stdout).toMatch(/Received Access-Accept/);
    expect(r.stdout).toMatch(/Reply-Message = "Hello, alice"/);
  });

  it('wrong password and unknown user: Access-Reject', async () => {
    const [a, b] = await Promise.all([
      radclient(AUTH, 'auth', 'testing123', 'User-Name = "bob", User-Password = "wrong"\n'),
      radclient(AUTH, 'auth', 'testing123', 'User-Name = "nobody", User-Password = "x"\n'),
    ]);
    expect(a.stdout).toMatch(/Received Access-Reject/);
    expect(b.stdout).toMatch(/Received Access-Reject/);
    expect(a.stdout).not.toMatch(/Hello/);
  });

  it('Status-Server is answered', async () => {
    const r = await radclient(AUTH, 'status', 'testing123', 'Message-Authenticator = 0x00\n');
    expect(r.stdout).toMatch(/Received Access-Accept/);
  });

  it('accounting Start / Interim-Update / Stop: answered and written to radacct/detail', async () => {
    for (const type of ['Start', 'Interim-Update', 'Stop']) {
      const r = await radclient(ACCT, 'acct', 'testing123',
        `User-Name = "bob", Acct-Status-Type = ${type}, Acct-Session-Id = "verbatim-1", NAS-IP-Address = 127.0.0.1, Acct-Session-Time = 42\n`);
      expect(r.stdout).toMatch(/Received Accounting-Response/);
    }
    const detail = fs.readFileSync(path.join(s.dir, 'radacct', 'detail'), 'utf8');
    expect(detail.match(/Acct-Status-Type = Start/g)).toHaveLength(1);
    expect(detail.match(/Acct-Status-Type = Interim-Update/g)).toHaveLength(1);
    expect(detail.match(/Acct-Status-Type = Stop/g)).toHaveLength(1);
    expect(detail).toMatch(/Acct-Session-Id = "verbatim-1"/);
    expect(detail).toMatch(/User-Name = "bob"/);
  });
});
