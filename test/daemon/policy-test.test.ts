/**
 * `radiusd test` (core/cli/policy-test.ts, docs/policy-tests.md): the shipped sites' tests
 * (raddb/tests/) pass against a copy of the embedded configuration, and an operator's own
 * site gets located diffs for failures, located errors for a broken test file, and the
 * documented exit codes. Runs the real launcher as a process.
 */
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RADIUSD, ROOT, tempDir, writeTempFiles } from './harness';

function radiusdTest(args: string[], cwd?: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [RADIUSD, 'test', ...args], { encoding: 'utf8', timeout: 60000, cwd });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('radiusd test: the shipped sites', () => {
  it('raddb/tests pass against the embedded configuration (copied, so accounting writes stay out of the tree)', () => {
    const dir = tempDir('policy-shipped');
    try {
      fs.cpSync(path.join(ROOT, 'raddb'), path.join(dir, 'raddb'), { recursive: true, filter: (src) => !src.includes(`${path.sep}var`) });
      fs.cpSync(path.join(ROOT, 'sites'), path.join(dir, 'sites'), { recursive: true });
      fs.symlinkSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'));
      const r = radiusdTest(['-d', path.join(dir, 'raddb'), '-v']);
      expect(r.out, r.err).toMatch(/^(\d+) passed, 0 failed$/m);
      expect(Number(/^(\d+) passed/m.exec(r.out)![1])).toBeGreaterThanOrEqual(16);
      expect(r.out).toMatch(/ok {3}.*raddb\/tests\/coa\.test\[4\] CoA for a known session is acknowledged/);
      expect(r.code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const site = (port = 1812) => `confdir = .
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
}
server office {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
		}
	}
	recv Access-Request {
		if (control.Tmp-String-0 == "vip") {
			reply.Class := "vip"
		}
		files
		pap
	}
	authenticate pap {
		pap
	}
	send Access-Accept {
		control.Tmp-String-1 := "accepted %{User-Name}"
	}
}
`;

describe('radiusd test: an operator\'s own site', () => {
  it('passing tests, control input and expected control pairs; a daemon may hold the ports meanwhile (nothing is bound)', async () => {
    // Something (a running daemon) holds the site's port: the tests run anyway.
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((r) => holder.bind({ address: '127.0.0.1', port: 0 }, () => r()));
    const dir = writeTempFiles('policy-own', {
      'radiusd.conf': site(holder.address().port),
      users: 'carol\tPassword.Cleartext := "pw"\n\tReply-Message := "hi carol"\n',
      'tests/office.test': `server office
test "carol"
	User-Name = "carol"
	User-Password = "pw"
	control.Tmp-String-0 = "vip"
expect Access-Accept
	Reply-Message == "hi carol"
	Class == "vip"
	control.Tmp-String-1 == "accepted carol"
	request.User-Name == "carol"
`,
    });
    try {
      const r = radiusdTest(['-d', dir]);
      expect(r.out, r.err).toBe('1 passed, 0 failed\n');
      expect(r.code).toBe(0);
    } finally {
      holder.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('failures: a located diff per wrong expectation, the lists for context, exit 1', () => {
    const dir = writeTempFiles('policy-fail', {
      'radiusd.conf': site(),
      users: 'carol\tPassword.Cleartext := "pw"\n\tReply-Message := "hi carol"\n',
      'office.test': `server office
test "carol with a wrong password"
	User-Name = "carol"
	User-Password = "nope"
expect Access-Accept
	Reply-Message =~ /^bye/
	Class !* ANY

test "carol"
	User-Name = "carol"
	User-Password = "pw"
expect Access-Accept
	Reply-Message != "hi carol"
	control.Tmp-String-1 == "accepted someone"
`,
    });
    try {
      const r = radiusdTest(['-d', dir, path.join(dir, 'office.test')], dir);
      expect(r.out).toContain('FAIL office.test[2] carol with a wrong password\n'
        + '  office.test[5]: expect Access-Accept: got Access-Reject\n'
        + '  office.test[6]: reply.Reply-Message =~ /^bye/: got "hi carol"\n'
        + '    reply: Reply-Message = "hi carol"\n');
      expect(r.out).toMatch(/pap: .*does not match/); // the request's own error, under its FAIL line
      expect(r.out).toContain('FAIL office.test[9] carol\n'
        + '  office.test[13]: reply.Reply-Message != "hi carol": got "hi carol"\n'
        + '  office.test[14]: control.Tmp-String-1 == "accepted someone": got "accepted carol"\n');
      expect(r.out).toMatch(/control: .*Password\.Cleartext = <hidden>/);
      expect(r.out).not.toContain('"pw"');
      expect(r.out).toMatch(/^0 passed, 2 failed$/m);
      expect(r.code).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a broken test file is a located error (exit 2); so is an unknown site', () => {
    const dir = writeTempFiles('policy-broken', {
      'radiusd.conf': site(),
      users: '',
      'a.test': 'test "x"\n\tUser-Name = "carol"\n\tUser-Pasword = "pw"\nexpect Access-Accept\n',
      'b.test': 'test "y"\n\tUser-Name = "carol"\n',
      'c.test': 'server nosuch\ntest "z"\n\tUser-Name = "carol"\nexpect Access-Accept\n',
    });
    try {
      const r = radiusdTest(['-d', dir, 'a.test', 'b.test'], dir);
      expect(r.err).toMatch(/^a\.test\[3\]: .*User-Pasword/m);
      expect(r.err).toContain('b.test[1]: test "y": no "expect" line');
      expect(r.code).toBe(2);
      const c = radiusdTest(['-d', dir, 'c.test'], dir);
      expect(c.out).toContain('FAIL c.test[2] z\n  c.test[2]: inject: no server "nosuch" (have office)');
      expect(c.code).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
