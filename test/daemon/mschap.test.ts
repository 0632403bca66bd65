/**
 * The mschap module through a real daemon against Debian's radtest (freeradius-utils 3.2):
 * `radtest -t mschap` sends MS-CHAP-Challenge + MS-CHAP-Response (MS-CHAPv1) computed by radclient.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, siteConf, startDaemon, tempDir, type Daemon } from './harness';
import { freePorts } from '../interop/freeradius';

describe('mschap vs radtest -t mschap', () => {
  let dir: string;
  let d: Daemon;
  let AUTH = '';

  beforeAll(async () => {
    const [auth, acct] = await freePorts(2);
    AUTH = `127.0.0.1:${auth}`;
    dir = tempDir('mschap');
    fs.writeFileSync(path.join(dir, 'users'), 'bob\tPassword.Cleartext := "hello"\n');
    const modules = '\tfiles {\n\t\tfilename = ${confdir}/users\n\t}\n\tmschap {\n\t}';
    const policy = '\trecv Access-Request {\n\t\tfiles\n\t\tmschap\n\t}\n\tauthenticate mschap {\n\t\tmschap\n\t}\n';
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), siteConf({ auth, acct, modules, policy }));
    d = await startDaemon(['-d', dir, '-f']);
  });

  afterAll(async () => {
    if (d) expect(await d.stop()).toBe(0);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the right password: Access-Accept with MS-CHAP-MPPE-Keys and the encryption policy', async () => {
    const r = await run('/usr/bin/radtest', ['-t', 'mschap', 'bob', 'hello', AUTH, '0', 'testing123']);
    expect(r.stdout).toMatch(/Received Access-Accept/);
    expect(r.stdout).toMatch(/MS-CHAP-MPPE-Keys = 0x[0-9a-f]{48}/);
    expect(r.stdout).toMatch(/MS-MPPE-Encryption-Policy = Encryption-Allowed/);
  });

  it('a wrong password: Access-Reject with MS-CHAP-Error', async () => {
    const r = await run('/usr/bin/radtest', ['-t', 'mschap', 'bob', 'wrong', AUTH, '0', 'testing123']);
    expect(r.stdout).toMatch(/Received Access-Reject/);
    expect(r.stdout).toMatch(/MS-CHAP-Error = .*E=691 R=1/);
  });
});
