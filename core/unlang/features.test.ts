import { describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../dict/default';
import { Pair } from '../pair/pair';
import { Request } from '../request/request';
import { compileUnlang, runSection } from './index';
import { pairBox } from './xlat/eval';
import { boxToString } from './xlat/box';
import { globalXlats } from './xlat/registry';

const dict = loadDefaultDictionary();

/** Runs `text` for a request with User-Name = "bob" and returns reply.Reply-Message values as strings. */
async function messages(text: string): Promise<string[]> {
  const req = new Request({ dict });
  req.request.push(new Pair(dict.resolve('User-Name')!, 'bob'));
  const r = runSection(compileUnlang(text, { dict }), req);
  if (r instanceof Promise) await r;
  const rm = dict.resolve('Reply-Message')!;
  return req.reply.filter((p) => p.da === rm).map((p) => boxToString(pairBox(p)));
}

const say = (expr: string) => `reply += { Reply-Message = ${expr} }`;

describe('unlang language features', () => {
  const cases: [string, string, string[]][] = [
    ['arithmetic and precedence', say('"%{1 + 2 * 3}|%{(1 + 2) * 3}|%{7 % 3}|%{1 << 4 | 1}|%{-(2 - 5)}"'), ['7|9|1|17|3']],
    ['string concatenation with +', say('"a" + "b" + %str.upper("c")'), ['abC']],
    ['alternation picks the first truthy value', 'uint32 z\nz := 0\n' + say('"%{z || 5}|%{Filter-Id || User-Name}"'), ['5|bob']],
    ['regex captures, numbered and named', 'if (User-Name =~ /^(?<first>.)(.*)$/) {\n' + say('"%{1}-%{2}-%regex.match(\'first\')"') + '\n}', ['b-ob-b']],
    ['string functions', say('"%str.substr(\'hello world\', -5)|%str.subst(\'aaa\', \'/a/g\', \'b\')|%str.rpad(\'x\', 3, \'-\')|%str.concat(%str.split(\'a b c\', \' \'), \',\')"'), ['world|bbb|x--|a,b,c']],
    ['hashes and encodings', say('"%hex(%hash.md5(\'\'))|%base64.encode(\'hi\')|%hex(%bin(\'0a0b\'))|%url.quote(\'a b\')"'), ['d41d8cd98f00b204e9800998ecf8427e|aGk=|0a0b|a%20b']],
    ['casts between types', say('"%{(uint32) 0x00000101}|%{(ipaddr) 2130706433}|%{(string) 0x4142}|%{(octets) (uint16) 258}"'), ['257|127.0.0.1|AB|0x0102']],
    ['time units', 'time_delta t\nt := 90s\n' + say('"%{%cast(\'ms\', t)}|%{7d == 1w}"'), ['90000|yes']],
    ['foreach with key over a group', 'group g\ng := { Filter-Id = "x", Filter-Id = "y" }\nforeach string k, string v (g.Filter-Id[*]) {\n' + say('"%{k}=%{v}"') + '\n}', ['g.Filter-Id[0]=x', 'g.Filter-Id[1]=y']],
    ['list union and intersection (|=, &=)', 'reply := { Filter-Id = "a", NAS-Port = 1 }\nreply &= {\n\tFilter-Id = "a"\n}\nreply |= { Filter-Id = "a", Framed-MTU = 9 }\n' + say('"%{reply.Filter-Id[#]}%{reply.NAS-Port[#]}%{reply.Framed-MTU}"'), ['109']],
    ['string truncation edits (<<= drops the first bytes, >>= the last)', 'reply.Filter-Id := "abcdef"\nreply.Filter-Id <<= 2\nreply.Filter-Id >>= 1\nreply.Class := 0x010203\nreply.Class <<= 1\n' + say('"%{reply.Filter-Id}|%hex(reply.Class)|%{\'abc\' >> 5}"'), ['cde|0203|']],
    ['children of a structural attribute', 'control.Tmp-Group-0 := { NAS-Port = 1, NAS-Port = 2 }\n' + say('"%{control.Tmp-Group-0.[#]}"'), ['2']],
    ['pairs printed and parsed back', 'control.Tmp-Group-0 := { Filter-Id = "q" }\nreply += "%pairs.print(\'control.Tmp-Group-0.[*]\')"\n' + say('"%{reply.Filter-Id}"'), ['q']],
    ['v3 update sections', 'update reply {\n Reply-Message := "one"\n}\nupdate {\n reply.Reply-Message += "two"\n}', ['one', 'two']],
    ['switch on an address picks the longest prefix', 'request.Framed-IP-Address := 10.1.2.3\nswitch Framed-IP-Address {\n case 10.0.0.0/8 { ' + say('"8"') + ' }\n case 10.1.0.0/16 { ' + say('"16"') + ' }\n default { ' + say('"none"') + ' }\n}', ['16']],
    ['list merge operators', 'control.Filter-Id := "c"\nreply.Filter-Id := "r"\nreply >= control\nreply |= control\n' + say('"%{reply.Filter-Id[#]}"'), ['2']],
    ['uuid v4 and v7 (RFC 9562 version and variant; v7 starts with the time)', 'string a\nstring b\na := %uuid.v4()\nb := %uuid.v7()\n' + say('"%{a =~ /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/}|%{b =~ /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/}|%{a != %uuid.v4()}|%{%str.substr(b, 0, 8) == %str.substr(%uuid.v7(), 0, 8) || %str.substr(b, 0, 8) < %str.substr(%uuid.v7(), 0, 8)}"'), ['yes|yes|yes|yes']],
  ];
  for (const [name, text, want] of cases) {
    it(name, async () => {
      expect(await messages(text)).toEqual(want);
    });
  }
});

/**
 * A failing expansion fails the statement that asked for it (rcode fail, FreeRADIUS's rule): no
 * partial value is written and the section's default action for fail applies, so no Accept goes
 * out on the back of a half-built reply. The log names the statement and the function.
 */
describe('a failing expansion fails the statement', () => {
  const xlats = globalXlats.child();
  xlats.register('broken.boom', () => { throw new Error('back-end on fire'); });
  xlats.register('broken.later', () => Promise.reject(new Error('timed out')));
  const run = async (text: string) => {
    const lines: string[] = [];
    const req = new Request({ dict, debug: true, sink: (_l, line) => lines.push(line) });
    req.request.push(new Pair(dict.resolve('User-Name')!, 'bob'));
    let rcode = runSection(compileUnlang(text, { dict, xlats, file: 'site' }), req);
    if (rcode instanceof Promise) rcode = await rcode;
    const rm = dict.resolve('Reply-Message')!;
    const mfm = dict.resolve('Module-Failure-Message')!;
    return {
      rcode,
      reply: req.reply.filter((p) => p.da === rm).map((p) => String(p.value)),
      failure: req.request.filter((p) => p.da === mfm).map((p) => String(p.value)),
      log: lines.join('\n'),
    };
  };

  it('in an edit: fail, no partial value, later statements do not run, the log says why', async () => {
    const r = await run('ok\nreply.Reply-Message := "hello %broken.boom() world"\nreply.Reply-Message += "after"\nok');
    expect(r.rcode).toBe('fail');
    expect(r.reply).toEqual([]);
    expect(r.failure).toEqual(['back-end on fire']);
    expect(r.log).toMatch(/\[2\]: reply\.Reply-Message := .*: %broken\.boom\(\) failed: back-end on fire/);
  });

  // FreeRADIUS v4 (unlang/condition.c): a condition that fails is logged; the next branch
  // (`elsif`/`else`) runs as if it were false; without one the `if` gives rcode fail without
  // ending the section (its module tests go on after `if <failing call> { test_fail }`).
  it('in a condition with an else: the failure is logged and the else branch runs', async () => {
    const r = await run('if (%broken.boom() == "x") {\n' + say('"then"') + '\n}\nelse {\n' + say('"else"') + '\n}\n' + say('"after"'));
    expect(r.reply).toEqual(['else', 'after']);
    expect(r.failure).toEqual(['back-end on fire']);
    expect(r.log).toMatch(/\[1\]: if .*%broken\.boom\(\) failed: back-end on fire/);
  });

  it('in an elsif: the next branch is tried', async () => {
    const r = await run('if (User-Name == "x") {\n' + say('"1"') + '\n}\nelsif (%broken.boom()) {\n' + say('"2"') + '\n}\nelsif (User-Name == "bob") {\n' + say('"3"') + '\n}\nelse {\n' + say('"4"') + '\n}');
    expect(r.reply).toEqual(['3']);
  });

  it('in a condition without an else: rcode fail, the branch is skipped and the section goes on', async () => {
    const r = await run('if (%broken.boom()) {\n' + say('"then"') + '\n}\nif (fail) {\n' + say('"saw fail"') + '\n}\n' + say('"after"'));
    expect(r.reply).toEqual(['saw fail', 'after']);
    expect(r.rcode).toBe('fail');
    const r2 = await run('if (%broken.boom()) {\n' + say('"then"') + '\n}\nok');
    expect(r2.rcode).toBe('ok');
  });

  it('an asynchronous call that rejects in a condition behaves the same', async () => {
    const r = await run('if (%broken.later()) {\n' + say('"then"') + '\n}\nelse {\n' + say('"else"') + '\n}\n' + say('"after"'));
    expect(r.reply).toEqual(['else', 'after']);
    expect(r.failure).toEqual(['timed out']);
    const r2 = await run('if (%broken.later()) {\n' + say('"then"') + '\n}\n' + say('"after"'));
    expect(r2.reply).toEqual(['after']);
  });

  it('a built-in that fails (%regex.match without a capture) fails the edit too', async () => {
    const r = await run(say('"[%regex.match(3)]"'));
    expect(r.rcode).toBe('fail');
    expect(r.reply).toEqual([]);
  });

  it('an asynchronous function that rejects fails the statement the same way', async () => {
    const r = await run('reply.Reply-Message := "x %broken.later()"\n' + say('"after"'));
    expect(r.rcode).toBe('fail');
    expect(r.reply).toEqual([]);
    expect(r.failure).toEqual(['timed out']);
    expect(r.log).toMatch(/%broken\.later\(\) failed: timed out/);
  });

  it('a failure inside a group is handled by the group\'s actions (fail = 1 carries on)', async () => {
    const r = await run('group {\n\treply.Reply-Message := "%broken.boom()"\n}\n' + say('"after"'));
    expect(r.rcode).toBe('fail');
    expect(r.reply).toEqual([]);
    const r2 = await run('redundant {\n\tgroup {\n\t\treply.Reply-Message := "%broken.boom()"\n\t}\n\tgroup {\n\t\treply.Reply-Message := "fallback"\n\t}\n}');
    expect(r2.reply).toEqual(['fallback']);
  });

  // FreeRADIUS runs a back-quoted string as a program; its output is the value.
  it('a back-quoted string runs the program; each word is expanded on its own; a failing program fails the statement', async () => {
    const r = await run(say('`/bin/echo hello %{User-Name}`') + '\n' +
      'request.User-Name := "a b"\n' + say('`/usr/bin/printf %%s| %{User-Name}`') + '\n' +
      'if (`/bin/echo Linux` == \'Linux\') {\n' + say("'trimmed'") + '\n}');
    expect(r.reply).toEqual(['hello bob', 'a b|', 'trimmed']);
    const bad = await run('reply.Reply-Message := `/bin/false`\n' + say('"after"'));
    expect(bad.rcode).toBe('fail');
    expect(bad.reply).toEqual([]);
    expect(bad.failure[0]).toMatch(/\/bin\/false.*returned code \(1\)/);
  });

  // FreeRADIUS v4's request log prepends each Module-Failure-Message, so the first instance, which a
  // bare reference compares, is the newest failure.
  it('the newest failure is the first Module-Failure-Message', async () => {
    const cond = (m: string) => `if (Module-Failure-Message == '${m}') {\n${say(`'${m} is first'`)}\n}`;
    // A failing condition without an else does not end the section: both failures are recorded.
    const r = await run(`if (%broken.boom() == 'x') {\n}\nif (%broken.later() == 'x') {\n}\n${cond('back-end on fire')}\n${cond('timed out')}`);
    expect(r.failure).toEqual(['timed out', 'back-end on fire']);
    expect(r.reply).toEqual(['timed out is first']);
  });
});

/** Constant arguments are checked against the types a function declares, at compile time. */
describe('xlat argument types at compile time', () => {
  const bad = (expr: string) => () => compileUnlang(say(expr), { dict });
  it('an unquoted word that reads as another type is an error, with the fix', () => {
    expect(bad('"%str.rand(8h)"')).toThrow(/%str\.rand\(\) argument 1: the unquoted 8h reads as a time_delta \(28800\), not the text the function expects; quote it: '8h'/);
  });
  it('a constant that is not the declared type is an error', () => {
    expect(bad('"%str.lpad(\'x\', ten)"')).toThrow(/%str\.lpad\(\) argument 2: "ten" is not a valid uint32/);
    expect(bad('"%str.lpad(\'x\', \'abc\')"')).toThrow(/%str\.lpad\(\) argument 2: "abc" is not a valid uint32/);
    expect(bad('"%rand(2d)"')).toThrow(/%rand\(\) argument 1: "2d" is not a valid uint32/);
  });
  it('what fits compiles and runs: quoted text, numbers that read the same as text, attributes', async () => {
    expect(await messages(say('"%strlen(%str.rand(\'8h\'))"'))).toEqual(['8']);
    expect(await messages(say('"%str.lpad(\'x\', 3, \'-\')|%str.lpad(%{User-Name}, 5)|%str.rpad(10, 4, 0)"'))).toEqual(['--x|  bob|1000']);
  });
});
