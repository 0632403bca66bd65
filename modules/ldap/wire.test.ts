/**
 * `./wire.ts` against ldapts's own encoder and decoder: the same bytes for searches (equality
 * filters on the fast path, every other filter through ldapts's parser), and the same decoded
 * responses however the stream is split.
 */
import { describe, expect, it } from 'vitest';
import { Attribute, BerWriter, BindRequest, FilterParser, SearchEntry, SearchRequest } from 'ldapts';
import { BindMessage, encodeFilter, ResponseReader, SearchMessage, SearchShape, type Response } from './wire';

const ldaptsSearch = (id: number, base: string, scope: 'base' | 'one' | 'sub' | 'children', filter: string, attrs: string[], timeLimit = 0) =>
  new SearchRequest({ messageId: id, baseDN: base, scope, filter: FilterParser.parseString(filter), attributes: attrs, timeLimit, derefAliases: 'never' }).write();

describe('ldap wire: search requests', () => {
  const attrs = ['userPassword', 'benchFramedIPAddress', 'benchSessionTimeout', 'benchIdleTimeout', 'benchRateUp', 'benchRateDown'];
  const cases: [string, string, 'base' | 'one' | 'sub' | 'children', string, string[], number][] = [
    ['equality', 'ou=people,dc=example,dc=com', 'sub', '(uid=user0001)', attrs, 3],
    ['escaped value', 'ou=people,dc=example,dc=com', 'sub', '(uid=a\\2a\\28\\29\\5cb)', attrs, 0],
    ['empty value', 'dc=example,dc=com', 'one', '(uid=)', ['1.1'], 0],
    ['presence', '', 'base', '(objectClass=*)', ['1.1'], 0],
    ['non-ASCII value, value with =', 'dc=example,dc=com', 'sub', '(member=cn=\u00e9t\u00e9,dc=x)', ['cn'], 0],
    ['hyphen and digits in the name', 'dc=example,dc=com', 'sub', '(x-a1=z)', ['cn'], 0],
    ['ordering and approximate', 'dc=example,dc=com', 'sub', '(&(uidNumber>=10)(cn~=ab)(cn<=z))', ['cn'], 0],
    ['and/or/substring', 'dc=example,dc=com', 'sub', '(&(objectClass=groupOfNames)(|(member=uid=a,dc=x)(cn=ad*min)))', ['cn'], 20],
    ['long base and list (long-form lengths)', `ou=${'x'.repeat(300)},dc=example,dc=com`, 'children', '(cn=y)', Array.from({ length: 40 }, (_, i) => `attr${i}`), 1],
  ];
  for (const [name, base, scope, filter, list, tl] of cases) {
    it(`encodes like ldapts: ${name}`, () => {
      for (const id of [1, 127, 128, 255, 256, 70000, 0x7fffffff]) {
        const m = new SearchMessage(new SearchShape({ base, scope, attrs: list, timeLimit: tl }), encodeFilter(filter));
        m.messageId = id;
        expect(m.write().toString('hex')).toBe(ldaptsSearch(id, base, scope, filter, list, tl).toString('hex'));
      }
    });
  }

  it('decodes \\xx escapes to bytes (RFC 4515), non-ASCII text as UTF-8', () => {
    const f = encodeFilter('(cn=\\c3\\a9t\u00e9)');
    // a3 len, 04 02 "cn", 04 len c3 a9 74 c3 a9
    expect(f.toString('hex')).toBe(`a30b0402636e0405c3a974c3a9`);
  });

  it('encodes equality filters with attribute options and OIDs (which ldapts does not parse)', () => {
    expect(encodeFilter('(cn;lang-en=x)').toString('hex')).toBe(`a3${'0f'}040a${Buffer.from('cn;lang-en').toString('hex')}040178`);
    expect(encodeFilter('(2.5.4.3=y)').toString('hex')).toBe(`a30c0407${Buffer.from('2.5.4.3').toString('hex')}040179`);
  });

  it('encodes simple binds like ldapts', () => {
    for (const [dn, pw] of [['uid=john,ou=people,dc=example,dc=com', 'secret'], ['cn=é', ''], [`uid=${'u'.repeat(200)}`, 'p'.repeat(300)]]) {
      for (const id of [1, 200, 0x7fffffff]) {
        const m = new BindMessage(dn, pw);
        m.messageId = id;
        expect(m.write().toString('hex')).toBe(new BindRequest({ messageId: id, dn, password: pw }).write().toString('hex'));
      }
    }
  });

  it('refuses filters that do not parse', () => {
    expect(() => encodeFilter('(uid=a')).toThrow();
    expect(() => encodeFilter('(uid=a\\zz)')).toThrow();
    expect(() => encodeFilter('(uid=a)(')).toThrow();
    expect(() => encodeFilter('(=a)')).toThrow();
  });
});

describe('ldap wire: responses', () => {
  const entry = (id: number, dn: string, attrs: Record<string, string[]>) => {
    const e = new SearchEntry({ messageId: id, name: dn, attributes: Object.entries(attrs).map(([type, values]) => new Attribute({ type, values })) });
    // ldapts's SearchEntry has no writer: encode it here with its BerWriter (the test's oracle for the layout).
    const w = new BerWriter();
    w.startSequence();
    w.writeInt(id);
    w.startSequence(0x64);
    w.writeString(dn);
    w.startSequence();
    for (const a of e.attributes) a.write(w);
    w.endSequence();
    w.endSequence();
    w.endSequence();
    return w.buffer;
  };
  const ref = (id: number, uris: string[]) => {
    const w = new BerWriter();
    w.startSequence();
    w.writeInt(id);
    w.startSequence(0x73);
    for (const u of uris) w.writeString(u);
    w.endSequence();
    w.endSequence();
    return w.buffer;
  };
  const result = (id: number, op: number, status: number, msg: string) => {
    const w = new BerWriter();
    w.startSequence();
    w.writeInt(id);
    w.startSequence(op);
    w.writeEnumeration(status);
    w.writeString('');
    w.writeString(msg);
    w.endSequence();
    w.endSequence();
    return w.buffer;
  };
  const big = 'v'.repeat(70000);
  const stream = Buffer.concat([
    entry(5, 'uid=user0001,ou=people,dc=example,dc=com', { userPassword: ['pass0001'], benchSessionTimeout: ['3600'], cn: ['a', 'b'] }),
    ref(5, ['ldap://other/dc=x', 'ldap://third/dc=y']),
    result(5, 0x65, 0, ''),
    entry(300, 'cn=big', { description: [big] }),
    result(300, 0x65, 4, 'size limit exceeded'),
    result(7, 0x61, 49, 'invalid credentials'),
  ]);
  const expected = (got: Response[]) => {
    expect(got.map((m) => [m.kind, m.messageId])).toEqual([['entry', 5], ['ref', 5], ['result', 5], ['entry', 300], ['result', 300], ['result', 7]]);
    const e = got[0] as Extract<Response, { kind: 'entry' }>;
    expect(e.dn).toBe('uid=user0001,ou=people,dc=example,dc=com');
    expect([...e.attrs.keys()]).toEqual(['userpassword', 'benchsessiontimeout', 'cn']);
    expect(e.attrs.get('cn')!.map((b) => b.toString())).toEqual(['a', 'b']);
    expect((got[1] as Extract<Response, { kind: 'ref' }>).uris).toEqual(['ldap://other/dc=x', 'ldap://third/dc=y']);
    expect((got[3] as Extract<Response, { kind: 'entry' }>).attrs.get('description')![0].toString()).toBe(big);
    expect(got[4]).toMatchObject({ kind: 'result', op: 0x65, status: 4, errorMessage: 'size limit exceeded' });
    expect(got[5]).toMatchObject({ kind: 'result', op: 0x61, status: 49, errorMessage: 'invalid credentials' });
  };

  it('decodes a stream in one chunk and split at every byte of the first messages', () => {
    const all: Response[] = [];
    new ResponseReader((m) => all.push(m)).read(stream);
    expected(all);
    for (let cut = 1; cut < 200; cut++) {
      const got: Response[] = [];
      const r = new ResponseReader((m) => got.push(m));
      r.read(stream.subarray(0, cut));
      r.read(stream.subarray(cut, cut + 1));
      r.read(stream.subarray(cut + 1));
      expected(got);
    }
  });

  it('names attributes whatever their order and case from one entry to the next', () => {
    const got: Response[] = [];
    const r = new ResponseReader((m) => got.push(m));
    r.read(entry(1, 'cn=a', { cn: ['a'], Mail: ['m'] }));
    r.read(entry(2, 'cn=b', { mail: ['n'], CN: ['b'], sn: ['s'] }));
    r.read(entry(3, 'cn=c', { cN: ['c'], mAIL: ['o'], sn: ['t'] }));
    const names = got.map((m) => [...(m as Extract<Response, { kind: 'entry' }>).attrs].map(([k, v]) => `${k}=${v[0]}`).join(' '));
    expect(names).toEqual(['cn=a mail=m', 'mail=n cn=b sn=s', 'cn=c mail=o sn=t']);
  });

  it('throws on bytes that are not LDAP', () => {
    expect(() => new ResponseReader(() => undefined).read(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toThrow();
    expect(() => new ResponseReader(() => undefined).read(Buffer.from('3005020101640a', 'hex'))).toThrow();
  });

});
