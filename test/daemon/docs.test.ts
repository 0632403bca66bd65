/**
 * Every `conf` example in docs/writing-a-site.md compiles (the checks of `radiusd -C`):
 * `policy { }` blocks are shared, each `server` block is compiled on its own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nullLogger } from '../../core/log/memory';
import { loadGeneration } from '../../core/server/generation';
import { BUILTIN_MODULES } from '../../modules/index';
import { ROOT, tempDir } from './harness';

const doc = fs.readFileSync(path.join(ROOT, 'docs', 'writing-a-site.md'), 'utf8');
const blocks = [...doc.matchAll(/```conf\n([\s\S]*?)```/g)].map((m) => m[1]);
const policies = blocks.filter((b) => b.trimStart().startsWith('policy'));
const servers = blocks.filter((b) => b.trimStart().startsWith('server'));

const PRELUDE = `confdir = .
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
	chap {
	}
	detail {
		filename = \${confdir}/detail
	}
	linelog auth_log {
		filename = \${confdir}/auth.log
		format = "%{User-Name}"
	}
	always ok {
		rcode = ok
	}
}
${policies.join('\n')}
`;

const dir = tempDir('docs');
fs.writeFileSync(path.join(dir, 'users'), 'bob\tCleartext-Password := "hello"\n');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('docs/writing-a-site.md examples', () => {
  it('has examples', () => {
    expect(servers.length).toBeGreaterThanOrEqual(6);
    expect(policies.length).toBeGreaterThanOrEqual(1);
  });

  for (const block of servers) {
    const name = /server (\S+)/.exec(block)![1];
    it(`compiles ${name}`, async () => {
      const file = path.join(dir, `${name}.conf`);
      fs.writeFileSync(file, PRELUDE + block);
      const gen = await loadGeneration({ file, log: nullLogger, check: true, modules: BUILTIN_MODULES });
      expect(gen.sites.has(name)).toBe(true);
      await gen.modules.detachAll();
    });
  }
});
