import { describe, expect, it } from 'vitest';
import { findSection, type ConfSection } from './ast';
import { ConfError } from './errors';
import { parseConfigString } from './parser';
import { conf, describeSchema, editDistance, parseDuration, parseSection, redact, sectionOf, suggest } from './schema';

const Ldap = conf.section({
  server: conf.string({ required: true, doc: 'LDAP URI of the directory.' }),
  password: conf.string({ secret: true, doc: 'Bind password.' }),
  port: conf.integer({ default: 389, min: 1, max: 65535 }),
  timeout: conf.duration({ default: '30s', min: '100ms', max: '1h' }),
  start_tls: conf.boolean({ default: false }),
  mode: conf.enum(['simple', 'sasl'], { default: 'simple' }),
  filter: conf.tmpl({ default: '(uid=%{User-Name})' }),
  src: conf.ipaddr({ default: '*' }),
  nets: conf.list(conf.ipaddr({ prefix: true })),
  pool: conf.subsection(conf.section({
    start: conf.integer({ default: 5, doc: 'Connections opened at start.' }),
    max: conf.integer({ default: 32 }),
  }), { doc: 'Connection pool.' }),
  tls: conf.subsection({ ca_file: conf.string() }, { optional: true }),
  actions: conf.raw(),
});

function section(body: string): ConfSection {
  const r = parseConfigString(`ldap corp {\n${body}\n}\n`, 'mods/ldap');
  return findSection(r, 'ldap')!;
}

function err(fn: () => unknown): ConfError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfError) return e;
    throw e;
  }
  throw new Error('expected a ConfError');
}

describe('parseSection', () => {
  it('applies defaults and converts values', () => {
    const v = parseSection(Ldap, section('server = "ldap://a"'));
    expect(v).toEqual({
      server: 'ldap://a', password: undefined, port: 389, timeout: 30, start_tls: false, mode: 'simple',
      filter: '(uid=%{User-Name})', src: '0.0.0.0', nets: [], pool: { start: 5, max: 32 }, tls: undefined, actions: [],
    });
    expect(sectionOf(v)?.name2).toBe('corp');
    expect(sectionOf(v.pool)?.name1).toBe('pool');
  });

  it('parses every type', () => {
    const v = parseSection(Ldap, section([
      "server = 'ldap://b'",
      'password = "p\\"w"',
      'port = 0x100',
      'timeout = 1.5',
      'start_tls = YES',
      'mode = SASL',
      'filter = "%{User-Name}\\n"',
      'src = 2001:DB8::1',
      'nets = 192.0.2.0/24',
      'nets = 2001:db8::/32',
      'pool {',
      '  start = 1',
      '}',
      'tls {',
      '  ca_file = /etc/ca.pem',
      '}',
      'actions {',
      '  ok = return',
      '}',
    ].join('\n')));
    expect(v).toMatchObject({
      server: 'ldap://b', password: 'p"w', port: 256, timeout: 1.5, start_tls: true, mode: 'sasl',
      filter: '%{User-Name}\\n', src: '2001:db8::1', nets: ['192.0.2.0/24', '2001:db8::/32'],
      pool: { start: 1, max: 32 }, tls: { ca_file: '/etc/ca.pem' },
    });
    expect(v.actions).toHaveLength(1);
    expect(v.actions[0]).toMatchObject({ kind: 'section', name1: 'actions' });
  });

  it('matches item names case-insensitively after an exact miss', () => {
    expect(parseSection(Ldap, section('SERVER = x\nPort = 5')).port).toBe(5);
  });

  it('parses durations', () => {
    expect(parseDuration('30s')).toBe(30);
    expect(parseDuration('1.5')).toBe(1.5);
    expect(parseDuration('100ms')).toBeCloseTo(0.1);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('2d')).toBe(172800);
    expect(parseDuration('250us')).toBeCloseTo(0.00025);
    for (const bad of ['', 's', '1x', '-1', '1 s', '1.5.2']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('turns single-quoted templates into literal template text', () => {
    const S = conf.section({ t: conf.tmpl() });
    const r = parseConfigString(`m {\n  t = '100%{x} "q" \\\\'\n}\n`, 'f');
    expect(parseSection(S, findSection(r, 'm')!).t).toBe('100\\%{x} \\"q\\" \\\\');
  });

  it('lists repeated subsections', () => {
    const S = conf.section({ listen: conf.list(conf.subsection({ port: conf.integer({ required: true }) })) });
    const r = parseConfigString('server x {\n listen {\n  port = 1\n }\n listen acct {\n  port = 2\n }\n}\n', 'f');
    const v = parseSection(S, findSection(r, 'server')!);
    expect(v.listen.map((l) => l.port)).toEqual([1, 2]);
    expect(v.listen.map((l) => sectionOf(l)?.name2)).toEqual([undefined, 'acct']);
  });

  it('tolerates unknown items when allowUnknown is set', () => {
    const S = conf.section({ a: conf.string() }, { allowUnknown: true });
    expect(parseSection(S, section('a = 1\nzzz = 2\nblock {\n}')).a).toBe('1');
  });
});

describe('parseSection errors', () => {
  const cases: Array<[string, string, string]> = [
    ['server = x\nserver2 = y', 'ERR_CONF_UNKNOWN_ITEM', 'mods/ldap[3]: ldap corp { server2 }: unknown item; did you mean "server"?'],
    ['server = x\ntimeuot = 1', 'ERR_CONF_UNKNOWN_ITEM', 'mods/ldap[3]: ldap corp { timeuot }: unknown item; did you mean "timeout"?'],
    ['server = x\nzzzzzz = 1', 'ERR_CONF_UNKNOWN_ITEM', 'mods/ldap[3]: ldap corp { zzzzzz }: unknown item'],
    ['server = x\npol {\n}', 'ERR_CONF_UNKNOWN_ITEM', 'mods/ldap[3]: ldap corp { pol }: unknown section; did you mean "pool"?'],
    ['server = x\npool {\n  strat = 1\n}', 'ERR_CONF_UNKNOWN_ITEM', 'mods/ldap[4]: ldap corp { pool { strat } }: unknown item; did you mean "start"?'],
    ['server = x\nldap', 'ERR_CONF_UNKNOWN_ITEM', 'mods/ldap[3]: ldap corp { ldap }: unknown item'],
    ['port = 1', 'ERR_CONF_MISSING', 'mods/ldap[1]: ldap corp: missing required item "server"'],
    ['server = x\nport = abc', 'ERR_CONF_VALUE', 'mods/ldap[3]: ldap corp { port }: expected an integer, got "abc"'],
    ['server = x\nport = 70000', 'ERR_CONF_RANGE', 'mods/ldap[3]: ldap corp { port }: 70000 is above the maximum 65535'],
    ['server = x\nport = 0', 'ERR_CONF_RANGE', 'mods/ldap[3]: ldap corp { port }: 0 is below the minimum 1'],
    ['server = x\ntimeout = 10ms', 'ERR_CONF_RANGE', 'mods/ldap[3]: ldap corp { timeout }: 10ms is below the minimum 100ms'],
    ['server = x\ntimeout = soon', 'ERR_CONF_VALUE', 'mods/ldap[3]: ldap corp { timeout }: expected a duration such as 30s, 1.5 or 100ms, got "soon"'],
    ['server = x\nstart_tls = maybe', 'ERR_CONF_VALUE', 'mods/ldap[3]: ldap corp { start_tls }: expected yes or no, got "maybe"'],
    ['server = x\nmode = kerberos', 'ERR_CONF_VALUE', 'mods/ldap[3]: ldap corp { mode }: expected one of simple, sasl, got "kerberos"'],
    ['server = x\nsrc = 300.1.1.1', 'ERR_CONF_VALUE', 'mods/ldap[3]: ldap corp { src }: expected an IP address, got "300.1.1.1"'],
    ['server = x\nsrc = 192.0.2.0/24', 'ERR_CONF_VALUE', 'mods/ldap[3]: ldap corp { src }: expected an IP address without a prefix, got "192.0.2.0/24"'],
    ['server = x\nnets = 192.0.2.0/33', 'ERR_CONF_VALUE', 'mods/ldap[3]: ldap corp { nets }: invalid prefix length in "192.0.2.0/33"'],
    ['server = x\nserver = y', 'ERR_CONF_DUPLICATE', 'mods/ldap[3]: ldap corp { server }: given more than once (first at mods/ldap[2])'],
    ['server = x\npool = 1', 'ERR_CONF_VALUE', 'mods/ldap[3]: ldap corp { pool }: expected a section "pool { … }"'],
    ['server {\n}', 'ERR_CONF_VALUE', 'mods/ldap[2]: ldap corp { server }: expected a value, not a section'],
    ['server += x', 'ERR_CONF_VALUE', 'mods/ldap[2]: ldap corp { server }: expected "=", got "+="'],
    ['server = `date`', 'ERR_CONF_VALUE', 'mods/ldap[2]: ldap corp { server }: back-quoted (command) values are not supported'],
    ['server = x\npassword = `x`', 'ERR_CONF_VALUE', 'mods/ldap[3]: ldap corp { password }: invalid string value'],
  ];
  for (const [body, code, message] of cases) {
    it(`${code}: ${message}`, () => {
      const e = err(() => parseSection(Ldap, section(body)));
      expect(e.code).toBe(code);
      expect(e.message).toBe(message);
    });
  }

  it('uses the owner name given by the caller', () => {
    const e = err(() => parseSection(Ldap, section('server = x\nbogus = 1'), 'ldap_corp'));
    expect(e.message).toBe('mods/ldap[3]: ldap_corp { bogus }: unknown item');
  });

  it('reports missing items of an absent, non-optional subsection at the parent', () => {
    const S = conf.section({ pool: conf.subsection({ size: conf.integer({ required: true }) }) });
    const e = err(() => parseSection(S, section('')));
    expect(e.message).toBe('mods/ldap[1]: ldap corp { pool }: missing required item "size"');
  });

  it('enforces list minimums', () => {
    const S = conf.section({ type: conf.list(conf.string(), { min: 1 }) });
    expect(err(() => parseSection(S, section(''))).message).toBe('mods/ldap[1]: ldap corp: "type" must be given at least 1 time');
  });

  it('never shows a secret value', () => {
    const S = conf.section({ secret: conf.integer({ required: true }) });
    const Secret = conf.section({ secret: conf.ipaddr({ secret: true } as never) });
    void Secret;
    const e = err(() => parseSection(S, section('secret = hunter2')));
    expect(e.message).toContain('hunter2'); // not secret: shown
    const P = conf.section({ password: conf.string({ secret: true }) });
    const e2 = err(() => parseSection(P, section('password = `hunter2`')));
    expect(e2.message).not.toContain('hunter2');
  });
});

describe('suggestions', () => {
  it('computes Damerau-Levenshtein distances', () => {
    expect(editDistance('server', 'server2')).toBe(1);
    expect(editDistance('timeout', 'timeuot')).toBe(1);
    expect(editDistance('abc', 'ABC')).toBe(0);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
  it('suggests only close names', () => {
    expect(suggest('sever', ['server', 'port'])).toBe('server');
    expect(suggest('xyz', ['server', 'port'])).toBeUndefined();
    expect(suggest('pt', ['port'])).toBeUndefined();
  });
});

describe('describeSchema and redact', () => {
  it('renders a markdown table', () => {
    const md = describeSchema(Ldap);
    const lines = md.split('\n');
    expect(lines[0]).toBe('| Item | Type | Default | Description |');
    expect(lines).toContain('| `server` | string | required | LDAP URI of the directory. |');
    expect(lines).toContain('| `password` | string (secret) |  | Bind password. |');
    expect(lines).toContain('| `port` | integer (1..65535) | `389` |  |');
    expect(lines).toContain('| `timeout` | duration | `30s` |  |');
    expect(lines).toContain('| `mode` | enum (simple, sasl) | `simple` |  |');
    expect(lines).toContain('| `nets` | list of ipprefix |  |  |');
    expect(lines).toContain('| `pool { }` | section |  | Connection pool. |');
    expect(lines).toContain('| `pool.start` | integer | `5` | Connections opened at start. |');
    expect(lines).toContain('| `filter` | template | `(uid=%{User-Name})` |  |');
  });

  it('redacts secrets', () => {
    const v = parseSection(Ldap, section('server = x\npassword = hunter2'));
    const r = redact(Ldap, v);
    expect(r.password).toBe('<secret>');
    expect(r.server).toBe('x');
    expect(JSON.stringify(r)).not.toContain('hunter2');
  });

  it('rejects an invalid default at definition time', () => {
    expect(() => conf.integer({ default: 1 })).not.toThrow();
    expect(() => conf.duration({ default: 'soon' })).toThrow(/invalid schema default/);
  });
});
