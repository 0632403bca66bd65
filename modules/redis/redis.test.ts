/**
 * `redis` against the test's own redis-server and 6-node Redis Cluster (free ports), loaded through
 * the real loader and called from compiled policy: commands and reply types, nil, arrays, `map list`,
 * Lua functions (also after SCRIPT FLUSH), node selection and remap, cluster detection.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfError, compileUnlang, createRootContainer, findSection, loadDefaultDictionary, loadModules, MemoryLogger, parseConfigString, Request, runSection, type ModuleSet } from '../../core';
import { startRedis, startRedisCluster, type RedisServer } from '../../test/support/redis';
import redis from './index';

const dict = loadDefaultDictionary();
let open: ModuleSet[] = [];
afterEach(async () => { for (const m of open) await m.detachAll(); open = []; });

async function load(body: string): Promise<ModuleSet> {
  const tree = parseConfigString(`modules {\n${body}\n}\n`, '/tmp/redis/radiusd.conf');
  const root = createRootContainer({ dict, log: new MemoryLogger(false) });
  const mods = await loadModules({ section: findSection(tree, 'modules'), root, registry: [redis] });
  open.push(mods);
  return mods;
}

const LUA = `
	lua {
		function concat_args_keys {
			body = "return table.concat(KEYS, ',') .. ',' .. table.concat(ARGV, ',')"
		}
	}`;

/** Runs `policy` and returns the rcode and the reply's Reply-Message values. */
async function run(m: ModuleSet, policy: string): Promise<{ rcode: string; msgs: string[] }> {
  const r = new Request({ code: 1, dict });
  const rcode = await runSection(compileUnlang(policy, { dict, xlats: m.xlats, modules: m.modules, virtualModules: m.virtualModules, section: { name1: 'recv', name2: 'Access-Request' } }), r);
  return { rcode, msgs: r.reply.filter((p) => p.da.name === 'Reply-Message').map((p) => String(p.value)) };
}

describe('redis: configuration', () => {
  it('needs a server; a lua function needs a body', async () => {
    await expect(load('redis {\n}')).rejects.toThrow(ConfError);
    await expect(load('redis {\n\tserver = 127.0.0.1:1\n\tlua {\n\t\tfunction f {\n\t\t}\n\t}\n}')).rejects.toThrow(/function f has no body/);
  });
});

for (const mode of ['standalone', 'cluster'] as const) {
  describe(`redis on ${mode === 'standalone' ? 'a standalone redis-server' : 'a 6-node Redis Cluster'}`, () => {
    let srv: RedisServer;
    beforeAll(async () => { srv = mode === 'cluster' ? await startRedisCluster(6) : await startRedis(); }, 120_000);
    afterAll(async () => { await srv?.stop(); }, 60_000);

    it('runs commands: strings, integers, nil, arrays, map list, Lua functions', async () => {
      // No `cluster` item: detected.
      const m = await load(`redis {\n\tserver = 127.0.0.1:${srv.port}\n${LUA}\n}`);
      const r = await run(m, `
        string a
        string b
        string c
        %redis('SET', 'value1', 100)
        reply += { Reply-Message = %redis('GET', 'value1') }
        reply += { Reply-Message = "%{%redis('INCR', 'counter') + 1}" }
        reply += { Reply-Message = %{%redis('GET', 'missing') || 'fallback'} }
        %redis('HSET', 'h{1}', 'foo', 'fooval', 'baz', 300)
        map list %redis('HMGET', 'h{1}', 'foo', 'nothing', 'baz') {
          a := 0
          b := 1
          c := 2
        }
        reply += { Reply-Message = "%{a}/%{b}/%{c}" }
        reply += { Reply-Message = %redis.concat_args_keys(1, '{k}1', 'v1') }
        %redis('SCRIPT', 'FLUSH')
        reply += { Reply-Message = %redis.concat_args_keys(1, '{k}2', 'v2') }
        reply += { Reply-Message = %redis.node('value1') }
      `);
      expect(r.rcode).not.toBe('fail');
      const node = r.msgs.pop()!;
      expect(r.msgs).toEqual(['100', '2', 'fallback', 'fooval//300', '{k}1,v1', '{k}2,v2']);
      expect(node).toMatch(/^127\.0\.0\.1:\d+$/);
      // An error reply fails the expansion.
      expect((await run(m, `%redis('NOSUCHCOMMAND')`)).rcode).toBe('fail');
    });

    if (mode === 'cluster') {
      it('node selection: the master and its replica by key, @node and -@node (READONLY on a replica), remap', async () => {
        const m = await load(`redis {\n\tserver = 127.0.0.1:${srv.port}\n}`);
        await run(m, `
          %redis('SET', 'b', 'boom')
          %redis("@%redis.node('b', 0)", 'WAIT', 1, 2000)
        `);
        // Redis 7 lists a replica in CLUSTER SLOTS once the master has heard (by gossip) that it
        // replicated something: remap until the replica shows.
        let r = { rcode: '', msgs: [] as string[] };
        for (let i = 0; i < 40; i++) {
          r = await run(m, `
            reply += { Reply-Message = %redis.remap() }
            reply += { Reply-Message = %redis.node('b', 0) }
            reply += { Reply-Message = "%{%redis.node('b', 1) || 'none'}" }
            reply += { Reply-Message = %redis("@%redis.node('b', 0)", 'GET', 'b') }
          `);
          if (r.msgs[2] !== 'none') break;
          await new Promise((res) => setTimeout(res, 250));
        }
        r.msgs.push(...(await run(m, `
          reply += { Reply-Message = %redis("-@%redis.node('b', 1)", 'GET', 'b') }
          reply += { Reply-Message = "%{%redis.node('b', 7) || 'none'}" }
        `)).msgs);
        const [remap, master, replica, fromMaster, fromReplica, none] = r.msgs;
        expect(remap).toBe('success');
        expect(master).not.toBe(replica);
        expect(srv.nodes.map((n) => `127.0.0.1:${n.port}`)).toContain(replica);
        expect([fromMaster, fromReplica, none]).toEqual(['boom', 'boom', 'none']);
      });
    }
  });
}
