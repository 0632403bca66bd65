import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findPair, findSection, type ConfItem, type ConfPair, type ConfSection } from './ast';
import { ConfError } from './errors';
import { isIgnoredConfigFile } from './include';
import { parseConfigFile, parseConfigString, type ParseOptions } from './parser';
import { VERBATIM_FILES } from '../../test/fixtures/verbatim';
import { mulberry32 } from '../../test/support/prng';
import { mutateText, randomText } from '../../test/support/mutate';

const tmpRoots: string[] = [];
afterAll(() => {
  for (const d of tmpRoots) fs.rmSync(d, { recursive: true, force: true });
});

/** Make a temp tree from a map of relative path → content. */
function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-conf-'));
  tmpRoots.push(root);
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return root;
}

const parse = (text: string, opts?: ParseOptions) => parseConfigString(text, 'test.conf', opts);

/** Strip locations for structural comparisons. */
function shape(items: ConfItem[]): unknown[] {
  return items.map((i) =>
    i.kind === 'pair'
      ? { attr: i.attr, op: i.op, value: i.value, quote: i.quote }
      : { name1: i.name1, name2: i.name2, op: i.op, headerText: i.headerText, children: shape(i.children) });
}

function err(fn: () => unknown): ConfError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfError) return e;
    throw new Error(`expected a ConfError, got ${String(e)}`);
  }
  throw new Error('expected a ConfError, nothing was thrown');
}

const sec = (i: ConfItem | undefined): ConfSection => {
  expect(i?.kind).toBe('section');
  return i as ConfSection;
};
const pair = (i: ConfItem | undefined): ConfPair => {
  expect(i?.kind).toBe('pair');
  return i as ConfPair;
};

describe('sections', () => {
  it('parses name1, name2 and nesting with locations', () => {
    const r = parse('server default {\n\tlisten acct {\n\t}\n}\n');
    const s = sec(r.children[0]);
    expect(s).toMatchObject({ name1: 'server', name2: 'default', name2Quote: 'bare', headerText: 'default', loc: { file: 'test.conf', line: 1 } });
    expect(sec(s.children[0])).toMatchObject({ name1: 'listen', name2: 'acct', loc: { line: 2 } });
    expect(r.name1).toBe('');
  });

  it('keeps quoted name2 with its quote kind', () => {
    const r = parse(`case "foo bar" {\n}\ncase 'x' {\n}\n`);
    expect(sec(r.children[0])).toMatchObject({ name1: 'case', name2: 'foo bar', name2Quote: 'double', headerText: '"foo bar"' });
    expect(sec(r.children[1])).toMatchObject({ name2: 'x', name2Quote: 'single' });
  });

  it('keeps unlang headers raw', () => {
    const r = parse([
      'if (User-Name == "bob") {', '}',
      'if !(%str.upper(User-Name) == "X") {', '}',
      "foreach string x (%str.split(a, ' ')) {", '}',
      'load-balance keyed Calling-Station-Id {', '}',
      'elsif(a){', '}',
      'if ((a == b) &&   # first', '    (c == "}{")) {', '}',
      'if User-Name =~ /^a{2}#}$/i {', '}',
      '@policy at_policy {', '}',
      'else {', '}',
      'timeout 1s {', '}',
    ].join('\n'));
    const [a, b, c, d, e, f, g, h, i, j] = r.children.map(sec);
    expect(a).toMatchObject({ name1: 'if', headerText: '(User-Name == "bob")' });
    expect(a.name2).toBeUndefined();
    expect(b).toMatchObject({ name1: 'if', headerText: '!(%str.upper(User-Name) == "X")' });
    expect(b.name2).toBeUndefined();
    expect(c).toMatchObject({ name1: 'foreach', name2: 'string', headerText: "string x (%str.split(a, ' '))" });
    expect(d).toMatchObject({ name1: 'load-balance', name2: 'keyed', headerText: 'keyed Calling-Station-Id' });
    expect(e).toMatchObject({ name1: 'elsif', headerText: '(a)' });
    expect(f).toMatchObject({ name1: 'if', loc: { line: 11 } });
    expect(f.headerText).toMatch(/^\(\(a == b\) &&\s+\(c == "\}\{"\)\)$/);
    expect(g).toMatchObject({ name1: 'if', headerText: 'User-Name =~ /^a{2}#}$/i' });
    expect(h).toMatchObject({ name1: '@policy', name2: 'at_policy' });
    expect(i).toMatchObject({ name1: 'else', headerText: '' });
    expect(j).toMatchObject({ name1: 'timeout', name2: '1s' });
  });

  it('parses edit blocks with an operator', () => {
    const r = parse('reply += {\n\tReply-Message = "x"\n}\ncontrol.Tmp-Group-0 := {\n}\nfoo := {}\ncontrol = {}\n');
    expect(shape(r.children)).toEqual([
      { name1: 'reply', name2: undefined, op: '+=', headerText: '+=', children: [{ attr: 'Reply-Message', op: '=', value: 'x', quote: 'double' }] },
      { name1: 'control.Tmp-Group-0', name2: undefined, op: ':=', headerText: ':=', children: [] },
      { name1: 'foo', name2: undefined, op: ':=', headerText: ':=', children: [] },
      { name1: 'control', name2: undefined, op: '=', headerText: '=', children: [] },
    ]);
  });

  it('reads the list union and intersection edits (|= and &=) as edit blocks', () => {
    const r = parse('reply |= {\n\tFilter-Id = "a"\n}\ncontrol &= { Filter-Id = "b" }\nrequest | = {}\n');
    expect(shape(r.children).map((c) => ('name1' in c ? [c.name1, c.name2, c.op] : []))).toEqual([
      ['reply', undefined, '|='], ['control', undefined, '&='], ['request', '|', undefined],
    ]);
  });

  it('handles one-line bodies, value lists and comma-separated pairs', () => {
    const r = parse([
      'group { ok }',
      'ldap { fail = 1; reject = return }',
      'NAS-Port := { 1, 3, 5 }',
      'foo := {User-Name = "a", User-Password = "b", }',
      'if (a) {', '} else {', '}',
    ].join('\n'));
    expect(shape(r.children)).toEqual([
      { name1: 'group', name2: undefined, op: undefined, headerText: '', children: [{ attr: 'ok', op: '', value: undefined, quote: 'none' }] },
      { name1: 'ldap', name2: undefined, op: undefined, headerText: '', children: [
        { attr: 'fail', op: '=', value: '1', quote: 'bare' }, { attr: 'reject', op: '=', value: 'return', quote: 'bare' }] },
      { name1: 'NAS-Port', name2: undefined, op: ':=', headerText: ':=', children: [
        { attr: '1', op: '', value: undefined, quote: 'none' }, { attr: '3', op: '', value: undefined, quote: 'none' },
        { attr: '5', op: '', value: undefined, quote: 'none' }] },
      { name1: 'foo', name2: undefined, op: ':=', headerText: ':=', children: [
        { attr: 'User-Name', op: '=', value: 'a', quote: 'double' }, { attr: 'User-Password', op: '=', value: 'b', quote: 'double' }] },
      { name1: 'if', name2: undefined, op: undefined, headerText: '(a)', children: [] },
      { name1: 'else', name2: undefined, op: undefined, headerText: '', children: [] },
    ]);
  });

  it('keeps commas in values outside edit blocks', () => {
    const r = parse('csv {\n  fields = field1,,field3\n  Class = 0x01,\n  a = 1, b = 2\n}\n');
    expect(shape(sec(r.children[0]).children)).toEqual([
      { attr: 'fields', op: '=', value: 'field1,,field3', quote: 'bare' },
      { attr: 'Class', op: '=', value: '0x01', quote: 'bare' },
      { attr: 'a', op: '=', value: '1, b = 2', quote: 'bare' },
    ]);
  });

  it('splits statements before a header only when they are pairs', () => {
    const r = parse('count := 0; group {\n}\nforeach string key, string name (foo[*]) {\n}\n');
    expect(pair(r.children[0])).toMatchObject({ attr: 'count', op: ':=', value: '0' });
    expect(sec(r.children[1]).name1).toBe('group');
    expect(sec(r.children[2])).toMatchObject({ name1: 'foreach', headerText: 'string key, string name (foo[*])' });
  });
});

describe('pairs and statements', () => {
  it('parses every operator', () => {
    const ops = ['=', ':=', '+=', '-=', '^=', '==', '!=', '<', '>', '<=', '>=', '=~', '!~', '=*', '!*'];
    const r = parse(ops.map((op) => `Foo ${op} bar`).join('\n'));
    expect(r.children.map((c) => (c as ConfPair).op)).toEqual(ops);
    expect(r.children.every((c) => (c as ConfPair).attr === 'Foo' && (c as ConfPair).value === 'bar')).toBe(true);
  });

  it('parses operators without spaces', () => {
    const r = parse('a=b\nFilter-Id-=x\nc:=::Accept\n');
    expect(shape(r.children)).toEqual([
      { attr: 'a', op: '=', value: 'b', quote: 'bare' },
      { attr: 'Filter-Id', op: '-=', value: 'x', quote: 'bare' },
      { attr: 'c', op: ':=', value: '::Accept', quote: 'bare' },
    ]);
  });

  it('records quote kinds and preserves escapes', () => {
    const r = parse(String.raw`a = "x\"y\n"
b = 'it\'s'
c = ` + '`/bin/echo hi`' + `
d = bare-word
e = ""
`);
    expect(shape(r.children)).toEqual([
      { attr: 'a', op: '=', value: String.raw`x\"y\n`, quote: 'double' },
      { attr: 'b', op: '=', value: String.raw`it\'s`, quote: 'single' },
      { attr: 'c', op: '=', value: '/bin/echo hi', quote: 'back' },
      { attr: 'd', op: '=', value: 'bare-word', quote: 'bare' },
      { attr: 'e', op: '=', value: '', quote: 'double' },
    ]);
  });

  it('keeps raw expression values and drops trailing separators', () => {
    const r = parse([
      "result := %str.concat(%{control.[*]}, ', ')",
      'x := %{(string) (control.NAS-Port[*])}',
      'count := 0;',
      'Class = 0x01020304,',
      'y := 1 + 2',
      'z := "a" + \'b\'',
      'filter = (uid=%{User-Name})',
      'Foo =~ /a b#c/i',
    ].join('\n'));
    expect(r.children.map((c) => [(c as ConfPair).value, (c as ConfPair).quote])).toEqual([
      ["%str.concat(%{control.[*]}, ', ')", 'bare'],
      ['%{(string) (control.NAS-Port[*])}', 'bare'],
      ['0', 'bare'],
      ['0x01020304', 'bare'],
      ['1 + 2', 'bare'],
      ['"a" + \'b\'', 'bare'],
      ['(uid=%{User-Name})', 'bare'],
      ['/a b#c/i', 'bare'],
    ]);
  });

  it('keeps bare statements as raw text', () => {
    const r = parse([
      'ldap', 'uint32 foo', "%pairs.debug('control.[*]')", '"%{result_string}"', 'ldap.authorize', 'return',
      'Foo[*] == bar', '&User-Name',
    ].join('\n'));
    expect(r.children.map((c) => [(c as ConfPair).attr, (c as ConfPair).op, (c as ConfPair).quote])).toEqual([
      ['ldap', '', 'none'], ['uint32 foo', '', 'none'], ["%pairs.debug('control.[*]')", '', 'none'],
      ['"%{result_string}"', '', 'none'], ['ldap.authorize', '', 'none'], ['return', '', 'none'],
      ['Foo[*]', '==', 'none'.replace('none', 'bare')], ['&User-Name', '', 'none'],
    ]);
    expect(pair(r.children[6]).value).toBe('bar');
  });

  it('applies $TEMPLATE from the top-level templates section', () => {
    const r = parse('templates {\n  tls {\n    port = 1\n    ca = x\n  }\n}\nserver a {\n  $TEMPLATE tls\n  port = 2\n}\n');
    const a = sec(findSection(r, 'server'));
    expect(shape(a.children)).toEqual([
      { attr: 'ca', op: '=', value: 'x', quote: 'bare' },
      { attr: 'port', op: '=', value: '2', quote: 'bare' },
    ]);
  });

  it('keeps $TEMPLATE as a pair', () => {
    const r = parse('always x {\n\t$TEMPLATE template_test\n}\n');
    expect(pair(sec(r.children[0]).children[0])).toMatchObject({ attr: '$TEMPLATE', op: '', value: 'template_test' });
  });

  it('handles comments', () => {
    const r = parse([
      '# a comment',
      '  # indented comment',
      'ok\t# after a word',
      'a = "x # not a comment" # but this is',
      'if (!(%{Class[#]} == 3)) { # comment after brace',
      '}',
      "b = 'x' #",
    ].join('\n'));
    expect(shape(r.children)).toEqual([
      { attr: 'ok', op: '', value: undefined, quote: 'none' },
      { attr: 'a', op: '=', value: 'x # not a comment', quote: 'double' },
      { name1: 'if', name2: undefined, op: undefined, headerText: '(!(%{Class[#]} == 3))', children: [] },
      { attr: 'b', op: '=', value: 'x', quote: 'single' },
    ]);
  });

  it('joins backslash-newline continuations inside quoted strings', () => {
    const r = parse("s := '\\\nabc\\\ndef'\nt = a \\\n  b\n");
    expect(pair(r.children[0])).toMatchObject({ value: 'abcdef', quote: 'single', loc: { line: 1 } });
    expect(pair(r.children[1])).toMatchObject({ value: 'a    b', loc: { line: 4 } });
  });

  it('parses the length keyword test string to 260 characters', () => {
    const text = fs.readFileSync('../shared/conformance/keywords/length', 'utf8');
    const r = parse(text);
    const p = r.children.find((c) => c.kind === 'pair' && c.attr === 'test_string' && c.value!.length > 100) as ConfPair;
    expect(p.value!.length).toBe(260);
  });
});

describe('line endings', () => {
  it('parses CRLF input exactly like LF input', () => {
    const lf = 'server x {\n\ta = "b"\n\tif (c) {\n\t\tok\n\t}\n}\n# end\n';
    expect(parse(lf.replace(/\n/g, '\r\n'))).toEqual(parse(lf));
  });

  it('keeps a CR in the middle of a line', () => {
    const r = parse('a = b\rc\r\nd = "x\ry"\r\n');
    expect(pair(r.children[0]).value).toBe('b\rc');
    expect(pair(r.children[1]).value).toBe('x\ry');
    expect(pair(r.children[1]).loc.line).toBe(2);
  });

  it('ignores a leading BOM', () => {
    expect(pair(parse('\ufeffa = b\n').children[0]).attr).toBe('a');
  });
});

describe('references', () => {
  it('expands absolute, relative and parent references', () => {
    const r = parse([
      'prefix = /usr',
      'modules {',
      '  name = n',
      '  ldap corp {',
      '    server = "ldap://x"',
      '    base = ${.server}/base',
      '    tls {',
      '      ca = ${..server}/ca',
      '      up = ${...name}',
      '    }',
      '  }',
      '}',
      'a = ${prefix}/lib',
      'b = "${modules.ldap.server}"',
      'c = ${modules.ldap[corp].tls.ca}',
      "d = '${prefix}'",
      'e = "\\${prefix}"',
      'f = $ENV{HOME_X}/x',
      'g = "${confdir}"',
    ].join('\n'), { env: { HOME_X: '/home/x' } });
    const ldap = sec(findSection(sec(r.children[1]), 'ldap'));
    expect(findPair(ldap, 'base')?.value).toBe('ldap://x/base');
    const tls = sec(findSection(ldap, 'tls'));
    expect(findPair(tls, 'ca')?.value).toBe('ldap://x/ca');
    expect(findPair(tls, 'up')?.value).toBe('n');
    const get = (a: string) => findPair(r, a)?.value;
    expect(get('a')).toBe('/usr/lib');
    expect(get('b')).toBe('ldap://x');
    expect(get('c')).toBe('ldap://x/ca');
    expect(get('d')).toBe('${prefix}');
    expect(get('e')).toBe('\\${prefix}');
    expect(get('f')).toBe('/home/x/x');
    expect(get('g')).toBe(path.resolve('.'));
  });

  it('rejects "${...name}" defined later (references must be earlier)', () => {
    const e = err(() => parse('a {\n  b {\n    c = ${...x}\n  }\n}\nx = 1\n'));
    expect(e.code).toBe('ERR_CONF_REF');
    expect(e.message).toBe('test.conf[3]: reference "${...x}" is not defined (references must name an item defined earlier)');
  });

  it('uses the base variables and dotted pair names', () => {
    const r = parse('test.short = 5\na = ${test.short}\nb = ${raddb}/x\n', { variables: { raddb: '/etc/raddb' } });
    expect(findPair(r, 'a')?.value).toBe('5');
    expect(findPair(r, 'b')?.value).toBe('/etc/raddb/x');
  });

  it('name = ${a.section} copies the section in under that name (FreeRADIUS)', () => {
    const r = parse('modules {\n  pool {\n    redis {\n      server = x:1\n    }\n  }\n  redis = ${modules.pool.redis}\n}\n');
    const mods = sec(r.children[0]);
    const copy = sec(mods.children[1]);
    expect([copy.name1, copy.loc.line, findPair(copy, 'server')?.value]).toEqual(['redis', 7, 'x:1']);
  });

  it("$ENV{X} inside a single-quoted argument of a call is expanded (FreeRADIUS)", () => {
    const r = parse("%exec('tool', '$ENV{SRV_X}:30001', 'it''s')\n", { env: { SRV_X: "h'1" } });
    expect((r.children[0] as { attr: string }).attr).toBe("%exec('tool', 'h\\'1:30001', 'it''s')");
  });

  it('reports undefined references with their location', () => {
    const e1 = err(() => parse('\n\na = ${nope}\n'));
    expect(e1).toMatchObject({ code: 'ERR_CONF_REF', file: 'test.conf', line: 3 });
    expect(e1.message).toMatch(/^test\.conf\[3\]: reference "\$\{nope\}" is not defined/);
    const e2 = err(() => parse('a = $ENV{TSRADIUS_SURELY_UNSET}\n', { env: {} }));
    expect(e2.message).toBe('test.conf[1]: environment variable "TSRADIUS_SURELY_UNSET" is not set');
    const e3 = err(() => parse('s {\n}\na = "x${s}"\n'));
    expect(e3.message).toBe('test.conf[3]: reference "${s}" names a section, not a value');
    const e4 = err(() => parse('a = ${....x}\n'));
    expect(e4.message).toBe('test.conf[1]: reference "${....x}" goes above the top of the configuration');
    expect(err(() => parse('a = "${x"\n')).message).toBe('test.conf[1]: unterminated reference "${x"');
    expect(err(() => parse('a = ${x\n')).code).toBe('ERR_CONF_SYNTAX');
  });

  it('makes a top-level confdir absolute against the main file directory', () => {
    const dir = tree({ 'radiusd.conf': 'confdir = .\nfile = ${confdir}/users\nsub {\n  confdir = rel\n}\n' });
    const r = parseConfigFile(path.join(dir, 'radiusd.conf'));
    expect(findPair(r, 'confdir')?.value).toBe(dir);
    expect(findPair(r, 'file')?.value).toBe(path.join(dir, 'users'));
    expect(findPair(sec(findSection(r, 'sub')), 'confdir')?.value).toBe('rel');
  });
});

describe('includes', () => {
  it('includes files relative to the including file, inside the current section', () => {
    const dir = tree({
      'main.conf': 'a = 1\nserver x {\n  $INCLUDE sub/body.conf\n}\n',
      'sub/body.conf': 'b = ${a}\n$INCLUDE more.conf\n',
      'sub/more.conf': 'c = 3\n',
    });
    const r = parseConfigFile(path.join(dir, 'main.conf'));
    const s = sec(findSection(r, 'server'));
    expect(shape(s.children)).toEqual([
      { attr: 'b', op: '=', value: '1', quote: 'bare' },
      { attr: 'c', op: '=', value: '3', quote: 'bare' },
    ]);
    expect(s.children[0].loc).toEqual({ file: path.join(dir, 'sub/body.conf'), line: 1 });
    expect(s.children[1].loc).toEqual({ file: path.join(dir, 'sub/more.conf'), line: 1 });
    expect(r.files).toEqual([path.join(dir, 'main.conf'), path.join(dir, 'sub/body.conf'), path.join(dir, 'sub/more.conf')]);
  });

  it('includes a directory in sorted order, skipping ignored names', () => {
    const dir = tree({
      'main.conf': 'modules {\n  $INCLUDE mods-enabled/\n}\n',
      'mods-enabled/b': 'b {\n}\n',
      'mods-enabled/a': 'a {\n}\n',
      'mods-enabled/c.conf': 'c {\n}\n',
      'mods-enabled/.hidden': 'hidden {\n}\n',
      'mods-enabled/a~': 'x1 {\n}\n',
      'mods-enabled/a.bak': 'x2 {\n}\n',
      'mods-enabled/a.orig': 'x3 {\n}\n',
      'mods-enabled/a.dpkg-old': 'x4 {\n}\n',
      'mods-enabled/README.txt': 'not config {',
      'mods-enabled/notes.html': '<p>',
      'mods-enabled/x.DOC': 'doc',
      'mods-enabled/x.md': '# md',
      'mods-enabled/subdir/z': 'z {\n}\n',
    });
    const r = parseConfigFile(path.join(dir, 'main.conf'));
    expect(sec(r.children[0]).children.map((c) => (c as ConfSection).name1)).toEqual(['a', 'b', 'c']);
  });

  it('classifies ignored file names', () => {
    for (const n of ['.x', 'a~', 'a.bak', 'a.orig', 'a.dpkg-dist', 'a.txt', 'A.HTML', 'a.doc', 'a.md', '#a#']) {
      expect(isIgnoredConfigFile(n)).toBe(true);
    }
    for (const n of ['default', 'a', 'a.conf', 'txt', 'a.mdx']) expect(isIgnoredConfigFile(n)).toBe(false);
  });

  it('treats $-INCLUDE of a missing path as empty and $INCLUDE as an error', () => {
    const dir = tree({ 'main.conf': 'a = 1\n$-INCLUDE missing.conf\n$INCLUDE- missing2\n\n$INCLUDE missing3.conf\n' });
    const e = err(() => parseConfigFile(path.join(dir, 'main.conf')));
    expect(e.code).toBe('ERR_CONF_INCLUDE');
    expect(e.message).toBe(`${path.join(dir, 'main.conf')}[5]: cannot include "missing3.conf": no such file or directory`);
  });

  it('falls back to a case-insensitive lookup for files and directories', () => {
    const dir = tree({
      'main.conf': '$INCLUDE Clients.CONF\n$INCLUDE MODS/\n',
      'clients.conf': 'client a {\n}\n',
      'mods/x': 'x {\n}\n',
    });
    const r = parseConfigFile(path.join(dir, 'main.conf'));
    expect(r.children.map((c) => (c as ConfSection).name1)).toEqual(['client', 'x']);
    expect(r.children[0].loc.file).toBe(path.join(dir, 'clients.conf'));
    const r2 = parseConfigFile(path.join(dir, 'MAIN.conf'));
    expect(r2.children).toHaveLength(2);
  });

  it('prefers the exact case when both exist', () => {
    const dir = tree({ 'main.conf': '$INCLUDE a.conf\n', 'a.conf': 'exact = 1\n', 'A.conf': 'upper = 1\n' });
    const r = parseConfigFile(path.join(dir, 'main.conf'));
    expect(pair(r.children[0]).attr).toBe('exact');
  });

  it('applies a directory\'s "default" file to every sibling section', () => {
    const dir = tree({
      'main.conf': '$INCLUDE clients.d/\n',
      'clients.d/default': 'client default {\n  secret = shared\n  require_message_authenticator = yes\n  limit {\n    max_connections = 16\n  }\n}\n',
      'clients.d/a': 'client a {\n  ipaddr = 192.0.2.1\n}\n',
      'clients.d/b': 'client b {\n  ipaddr = 192.0.2.2\n  secret = own\n  limit {\n    max_connections = 2\n  }\n}\n',
      'clients.d/c.txt': 'client c {\n}\n',
    });
    const r = parseConfigFile(path.join(dir, 'main.conf'));
    expect(r.children.map((c) => (c as ConfSection).name2)).toEqual(['a', 'b']);
    const a = sec(r.children[0]);
    const b = sec(r.children[1]);
    expect(findPair(a, 'secret')?.value).toBe('shared');
    expect(findPair(a, 'require_message_authenticator')?.value).toBe('yes');
    expect(findPair(sec(findSection(a, 'limit')), 'max_connections')?.value).toBe('16');
    expect(findPair(a, 'secret')?.loc).toEqual({ file: path.join(dir, 'clients.d/default'), line: 2 });
    expect(findPair(a, 'ipaddr')?.value).toBe('192.0.2.1');
    expect(b.children.filter((c) => c.kind === 'pair' && c.attr === 'secret')).toHaveLength(1);
    expect(findPair(b, 'secret')?.value).toBe('own');
    expect(findPair(b, 'require_message_authenticator')?.value).toBe('yes');
    expect(findPair(sec(findSection(b, 'limit')), 'max_connections')?.value).toBe('2');
  });

  it('accepts a "default" file of plain pairs', () => {
    const dir = tree({
      'main.conf': '$INCLUDE clients.d\n',
      'clients.d/DEFAULT': 'secret = s\nshortname = dflt\nhome_server default {\n  port = 1\n}\n',
      'clients.d/one': 'client one {\n  shortname = one\n}\n',
    });
    const r = parseConfigFile(path.join(dir, 'main.conf'));
    expect(r.children).toHaveLength(1);
    const one = sec(r.children[0]);
    expect(findPair(one, 'secret')?.value).toBe('s');
    expect(findPair(one, 'shortname')?.value).toBe('one');
    expect(findSection(one, 'home_server')).toBeUndefined();
    expect(findPair(one, 'port')).toBeUndefined();
  });

  it('detects include loops', () => {
    const dir = tree({ 'main.conf': '$INCLUDE a.conf\n', 'a.conf': '\n$INCLUDE main.conf\n' });
    const e = err(() => parseConfigFile(path.join(dir, 'main.conf')));
    expect(e.code).toBe('ERR_CONF_INCLUDE');
    expect(e.message).toMatch(new RegExp(`^${path.join(dir, 'a.conf').replace(/[.]/g, '\\.')}\\[2\\]: include loop`));
  });

  it('requires sections to close in the file that opened them', () => {
    const dir = tree({ 'main.conf': 'server x {\n$INCLUDE a.conf\n}\n', 'a.conf': 'ok\n}\n' });
    const e = err(() => parseConfigFile(path.join(dir, 'main.conf')));
    expect(e).toMatchObject({ code: 'ERR_CONF_UNBALANCED', file: path.join(dir, 'a.conf'), line: 2 });
  });

  it('reports a missing main file', () => {
    expect(err(() => parseConfigFile('/nonexistent/tsradius/radiusd.conf')).code).toBe('ERR_CONF_INCLUDE');
  });
});

describe('errors are located', () => {
  const cases: Array<[string, string, string]> = [
    ['server x {\n  a = 1\n  recv y {\n    ok\n}\n', 'ERR_CONF_UNBALANCED', `test.conf[1]: section "server x" is missing its closing '}' (the '}' on line 5 is indented differently from "recv y" on line 3; check there)`],
    ['server x {\n  recv y {\n    ok\n  }\n', 'ERR_CONF_UNBALANCED', `test.conf[1]: section "server x" is missing its closing '}'`],
    ['server a {\n\trecv x {\n\t\tok\n}\nserver b {\n}\n', 'ERR_CONF_UNBALANCED',
      `test.conf[1]: section "server a" is missing its closing '}' (the '}' on line 4 is indented differently from "recv x" on line 2; check there)`],
    ['a {\n}\n}\n', 'ERR_CONF_UNBALANCED', "test.conf[3]: unexpected '}': no section is open"],
    ['a {\n  b = "abc\n}\n', 'ERR_CONF_SYNTAX', 'test.conf[2]: unterminated string, expected a closing "'],
    ["x = 'abc", 'ERR_CONF_SYNTAX', "test.conf[1]: unterminated string, expected a closing '"],
    ['\nif (a == b {\n  ok\n}\n', 'ERR_CONF_SYNTAX', "test.conf[2]: missing ')' before '{'"],
    // The missing ')' is reported where it is missing, not at the '}' where the scan gives up.
    ['s {\n  if (a == b {\n    ok\n  }\n  pap\n  ok\n}\n', 'ERR_CONF_SYNTAX', "test.conf[2]: missing ')' before '{'"],
    ['s {\n  if ((a == b) &&\n      (c == d {\n    ok\n  }\n}\n', 'ERR_CONF_SYNTAX', "test.conf[3]: missing ')' before '{' (the '(' on line 2 is not closed)"],
    ['s {\n  if (a == b\n  pap\n  ok\n}\n', 'ERR_CONF_SYNTAX', "test.conf[2]: '(' is not closed (unbalanced '}': expected ')' on line 5)"],
    ['s {\n  x = "%{User-Name}" && (a == %{b}\n}\n', 'ERR_CONF_SYNTAX', "test.conf[2]: '(' is not closed (unbalanced '}': expected ')' on line 3)"],
    ['x = (a]\n', 'ERR_CONF_SYNTAX', "test.conf[1]: unbalanced ']': expected ')'"],
    ['\n\n{\n}\n', 'ERR_CONF_SYNTAX', "test.conf[3]: expected a section name before '{'"],
    ['= b\n', 'ERR_CONF_SYNTAX', 'test.conf[1]: unexpected operator "=" at the start of a statement'],
    ['a =\n', 'ERR_CONF_SYNTAX', 'test.conf[1]: expected a value after "a ="'],
    ['$FOO bar\n', 'ERR_CONF_SYNTAX', 'test.conf[1]: unknown directive "$FOO"'],
    ['$INCLUDE\n', 'ERR_CONF_SYNTAX', 'test.conf[1]: $INCLUDE expects a file or directory name'],
    ['a = b c {\n}\n', 'ERR_CONF_SYNTAX', `test.conf[1]: unexpected "b" between "=" and '{'`],
    ['Foo =~ /abc\n', 'ERR_CONF_SYNTAX', 'test.conf[1]: unterminated regular expression, expected a closing /'],
    ['$INCLUDE x {\n}\n', 'ERR_CONF_SYNTAX', "test.conf[1]: unexpected '{' after $INCLUDE"],
  ];
  for (const [text, code, message] of cases) {
    it(`${code}: ${message}`, () => {
      const e = err(() => parse(text));
      expect(e.code).toBe(code);
      expect(e.message).toBe(message);
    });
  }
});

describe('real inputs', () => {
  it('parses the issue-4 radiusd.conf example', () => {
    const dir = tree({ ...VERBATIM_FILES });
    const r = parseConfigFile(path.join(dir, 'radiusd.conf'));
    expect(findPair(r, 'confdir')?.value).toBe(dir);
    const mods = sec(findSection(r, 'modules'));
    expect(findPair(sec(findSection(mods, 'files')), 'filename')?.value).toBe(path.join(dir, 'users'));
    expect(findPair(sec(findSection(mods, 'detail')), 'filename')?.value).toBe(path.join(dir, 'radacct/detail'));
    const server = sec(findSection(r, 'server', 'default'));
    const listens = server.children.filter((c) => c.kind === 'section' && c.name1 === 'listen') as ConfSection[];
    expect(listens.map((l) => l.name2)).toEqual([undefined, 'acct']);
    expect(listens[0].children.filter((c) => c.kind === 'pair' && c.attr === 'type').map((c) => (c as ConfPair).value))
      .toEqual(['Access-Request', 'Status-Server']);
    const send = sec(findSection(server, 'send', 'Access-Accept'));
    expect(pair(send.children[0])).toMatchObject({ attr: 'reply.Reply-Message', op: ':=', value: 'Hello, %{User-Name}', quote: 'double', loc: { line: 43 } });
    expect(shape(sec(findSection(server, 'recv', 'Access-Request')).children))
      .toEqual([{ attr: 'files', op: '', value: undefined, quote: 'none' }, { attr: 'pap', op: '', value: undefined, quote: 'none' }]);
    const client = sec(findSection(r, 'client', 'localhost'));
    expect(findPair(client, 'secret')?.value).toBe('testing123');
  });

  describe('keyword test snippets wrapped in recv Access-Request { group { … } }', () => {
    const dir = '../shared/conformance/keywords';
    const names = fs.readdirSync(dir).filter((f) => !f.includes('.') && !f.startsWith('_') && fs.statSync(path.join(dir, f)).isFile());
    it('found the test files', () => expect(names.length).toBeGreaterThan(100));
    for (const name of names) {
      it(name, () => {
        const body = fs.readFileSync(path.join(dir, name), 'utf8');
        const text = `recv Access-Request {\n\tgroup {\n${body}\n\t}\n}\n`;
        if (body.includes('ERROR')) {
          try {
            parseConfigString(text, name);
          } catch (e) {
            expect(e).toBeInstanceOf(ConfError);
          }
          return;
        }
        const r = parseConfigString(text, name);
        const group = sec(sec(r.children[0]).children[0]);
        expect(group.name1).toBe('group');
        expect(group.children.length).toBeGreaterThan(0);
      });
    }
  });

  it('parses the keyword harness configuration with its includes', () => {
    const h = '../shared/conformance/keywords/_harness';
    const files: Record<string, string> = {};
    for (const f of ['unit_test_module.conf', 'radius.conf', 'policy.conf']) files[f] = fs.readFileSync(path.join(h, f), 'utf8');
    files['raddb/mods-enabled/always'] = 'always ok {\n\trcode = ok\n}\n';
    files['raddb/mods-enabled/pap'] = 'pap {\n}\n';
    files['raddb/mods-enabled/escape'] = 'escape {\n}\n';
    files['src/tests/keywords/if'] = fs.readFileSync('../shared/conformance/keywords/if', 'utf8');
    files['src/tests/keywords/if.servers'] = 'server extra {\n\tnamespace = radius\n}\n';
    const dir = tree(files);
    const r = parseConfigFile(path.join(dir, 'unit_test_module.conf'), { env: { PROTOCOL: 'radius', KEYWORD: 'if' } });
    const server = sec(findSection(r, 'server', 'default'));
    const recv = sec(findSection(server, 'recv', 'Access-Request'));
    const group = sec(findSection(recv, 'group'));
    expect(sec(group.children[0])).toMatchObject({ name1: 'if', headerText: '(1)', loc: { file: path.join(dir, 'src/tests/keywords/if'), line: 3 } });
    const policy = sec(findSection(r, 'policy'));
    expect(findSection(policy, 'success')).toBeDefined();
    expect(findSection(policy, 'policy_return')).toBeDefined();
    expect(findSection(r, 'server', 'extra')).toBeDefined();
    const modules = sec(findSection(r, 'modules'));
    expect(findSection(modules, 'always', 'ok')).toBeDefined();
    expect(findPair(modules, 'test.short')?.value).toBe('65535');
    expect(findPair(sec(findSection(modules, 'csv')), 'filename')?.value).toBe('src/tests/keywords/csv.conf');
    const security = sec(findSection(r, 'security'));
    expect(findPair(sec(findSection(security, 'limit', 'files')), 'allow')?.value).toBe(path.resolve(dir));
    // Without the optional .servers file it still parses.
    fs.rmSync(path.join(dir, 'src/tests/keywords/if.servers'));
    expect(() => parseConfigFile(path.join(dir, 'unit_test_module.conf'), { env: { PROTOCOL: 'radius', KEYWORD: 'if' } })).not.toThrow();
  });
});

describe('fuzz', () => {
  it('never throws anything but ConfError and always terminates', () => {
    const seeds = [
      fs.readFileSync('../shared/conformance/keywords/_harness/policy.conf', 'utf8'),
      fs.readFileSync('../shared/conformance/keywords/if-regex-match', 'utf8'),
      fs.readFileSync('../shared/conformance/keywords/edit-nested', 'utf8'),
      'a = ${b}\nb {\n c = "${.d}" \n}\n$INCLUDE x\n',
    ];
    const alphabet = ['{', '}', '(', ')', '[', ']', '"', "'", '`', '/', '\\', '\n', '\r', '#', '$', '{', '%{', '${', ',', ';', '=', '=~', ' ', 'a', '\\\n', '$INCLUDE ', '$ENV{'];
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let ok = 0;
    let errors = 0;
    for (let iter = 0; iter < 3000; iter++) {
      let s = seeds[rnd(seeds.length)];
      const edits = 1 + rnd(6);
      for (let k = 0; k < edits; k++) {
        const at = rnd(s.length + 1);
        switch (rnd(3)) {
          case 0: s = s.slice(0, at) + alphabet[rnd(alphabet.length)] + s.slice(at); break;
          case 1: s = s.slice(0, at) + s.slice(at + 1 + rnd(5)); break;
          default: { const b = rnd(s.length + 1); s = s.slice(0, at) + s.slice(Math.min(at, b), Math.max(at, b)) + s.slice(at); }
        }
      }
      try {
        parseConfigString(s, 'fuzz.conf', { env: {} });
        ok++;
      } catch (e) {
        if (!(e instanceof ConfError)) throw new Error(`non-ConfError on input ${JSON.stringify(s)}: ${String(e)}`);
        expect(e.message.startsWith('fuzz.conf[') || e.message.includes('[')).toBe(true);
        errors++;
      }
    }
    expect(ok + errors).toBe(3000);
  });

  it('stray control bytes, invalid UTF-8 and random bytes: a parse or a located ConfError', () => {
    const raddb = path.resolve(__dirname, '..', '..', 'raddb');
    const seeds = [path.join(raddb, 'radiusd.conf'), path.join(raddb, 'clients.conf'), path.join(raddb, 'mods-enabled', 'detail'), path.join(raddb, 'mods-enabled', 'linelog')]
      .map((f) => fs.readFileSync(f, 'utf8'));
    const rnd = mulberry32(0xc0f1);
    for (let iter = 0; iter < 2000; iter++) {
      const s = rnd() < 0.8 ? mutateText(seeds[Math.floor(rnd() * seeds.length)], rnd) : randomText(rnd, 120);
      try {
        parseConfigString(s, '/fuzz/radiusd.conf', { env: {} });
      } catch (e) {
        if (!(e instanceof ConfError)) throw new Error(`non-ConfError on input ${JSON.stringify(s)}: ${String(e)}`);
        expect(e.message).toMatch(/^\/fuzz\/radiusd\.conf\[\d+\]: \S|^\/fuzz\/[^[]+\[\d+\]: \S/);
      }
    }
  });
});
