import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfError } from '../config/errors';
import { loadDefaultDictionary } from '../dict/default';
import { parseConfigString } from '../config/parser';
import type { ConfSection } from '../config/ast';
import { Pair } from '../pair/pair';
import { Request } from '../request/request';
import { CompileError, Execution, compileUnlang } from './index';
import { mulberry32 as prng } from '../../test/support/prng';

const KEYWORDS = resolve(__dirname, '..', '..', '..', 'shared', 'conformance', 'keywords');

const SAMPLES = [
  'if (User-Name == "bob") {\n reply.Reply-Message := "hi %{User-Name}"\n} elsif (NAS-Port > 3) {\n ok\n} else {\n reject\n}',
  'uint32 n\nforeach i (%range(5)) {\n n += i\n}\nswitch n {\n case 10 { ok }\n default { fail }\n}',
  'request -= Filter-Id[*]\nreply += {\n Reply-Message = "x"\n Filter-Id = "y"\n}\ncontrol := {}',
  'redundant {\n group { fail }\n ok\n}\nload-balance %{NAS-Port} {\n ok\n noop\n}\ntry {\n fail\n}\ncatch fail {\n ok\n}',
  'timeout 1s {\n limit 2 {\n  ok\n }\n}\ntransaction {\n reply.Filter-Id := "a"\n}',
  'if (User-Name =~ /^([a-z]+)_(\\d+)$/i) {\n reply.Reply-Message := "%{1}-%regex.match(2)"\n}',
];

const ALPHABET = ['{', '}', '(', ')', '[', ']', '"', "'", '/', '%', '%{', '%str.upper(', ':=', '+=', '-=', '==', '=~', '!', '&&', '||', '\n', ' ', '*', '#', '.', ',', ';', 'if', 'else', 'foreach', 'switch', 'case', 'break', 'return', '0x', '::', '-', '\\', 'uint32 x', 'User-Name', 'reply.', '[*]', '[#]', '1', 'ok', 'actions {', 'catch', 'try {', '`'];

function mutate(src: string, rnd: () => number): string {
  let s = src;
  const n = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rnd() * (s.length + 1));
    const op = rnd();
    if (op < 0.35) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 3));
    else if (op < 0.8) s = s.slice(0, at) + ALPHABET[Math.floor(rnd() * ALPHABET.length)] + s.slice(at);
    else {
      const from = Math.floor(rnd() * s.length);
      s = s.slice(0, at) + s.slice(from, from + Math.floor(rnd() * 20)) + s.slice(at);
    }
  }
  return s;
}

describe('unlang compiler fuzzing', () => {
  it('never crashes: every error is a located CompileError or ConfError', () => {
    const dict = loadDefaultDictionary();
    const corpus = [...SAMPLES];
    if (existsSync(KEYWORDS)) {
      for (const f of readdirSync(KEYWORDS)) {
        if (f.includes('.') || f.startsWith('_')) continue;
        corpus.push(readFileSync(join(KEYWORDS, f), 'utf8'));
      }
    }
    const rnd = prng(0xc0ffee);
    const iterations = 4000;
    let compiled = 0;
    for (let i = 0; i < iterations; i++) {
      const base = corpus[Math.floor(rnd() * corpus.length)];
      const text = mutate(base, rnd);
      try {
        compileUnlang(text, { dict, file: 'fuzz.unlang' });
        compiled++;
      } catch (e) {
        const located = (e instanceof CompileError || e instanceof ConfError) && Number.isInteger(e.line) && e.line >= 1 && /\[\d+\]: /.test(e.message);
        if (!located) {
          throw new Error(`unlocated error ${(e as Error)?.name}: ${(e as Error)?.stack}\n--- input ---\n${text}`);
        }
      }
    }
    expect(compiled).toBeGreaterThan(0);
  });
});

describe('unlang interpreter fuzzing', () => {
  it('never throws out of an execution: mutated programs that compile run to an rcode', async () => {
    const dict = loadDefaultDictionary();
    const pol = parseConfigString('success {\n reply.Result-Status = "success"\n ok\n}\ntest_fail {\n reply += { Result-Status = "fail" }\n}\npolicy_return {\n return\n}\naccept {\n ok\n}\n', 'policy.conf');
    const policies = new Map(pol.children.map((c) => [(c as ConfSection).name1, c as ConfSection]));
    const corpus = [...SAMPLES];
    if (existsSync(KEYWORDS)) {
      for (const f of readdirSync(KEYWORDS)) {
        if (f.includes('.') || f.startsWith('_')) continue;
        corpus.push(readFileSync(join(KEYWORDS, f), 'utf8'));
      }
    }
    const rnd = prng(0xbeef);
    let ran = 0;
    for (let i = 0; i < 3000; i++) {
      const text = mutate(corpus[Math.floor(rnd() * corpus.length)], rnd);
      let sec;
      try {
        sec = compileUnlang(text, { dict, policies, file: 'fuzz.unlang' });
      } catch {
        continue;
      }
      const req = new Request({ dict });
      req.request.push(new Pair(dict.resolve('User-Name')!, 'bob'));
      const ex = new Execution(sec, req, { maxRequestTime: 1 });
      try {
        const r = ex.start() ?? (await ex.promise);
        expect(typeof r).toBe('string');
        ran++;
      } catch (e) {
        throw new Error(`execution threw: ${(e as Error)?.stack}\n--- input ---\n${text}`);
      }
    }
    expect(ran).toBeGreaterThan(100);
  }, 120_000);
});
