import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DictError, Dictionary, Encrypt } from './index';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-dict-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let seq = 0;
/** Write fixture files into a fresh directory; returns the directory. */
function fixture(files: Record<string, string>): string {
  const dir = path.join(tmp, `f${++seq}`);
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
  return dir;
}

/** Load `text` as `dictionary` in a fresh directory (plus extra files). */
function load(text: string, extra: Record<string, string> = {}): Dictionary {
  return Dictionary.load(fixture({ dictionary: text, ...extra }));
}

/** The DictError thrown by `fn` (fails the test when none). */
function dictError(fn: () => unknown): DictError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DictError);
    return e as DictError;
  }
  throw new Error('expected a DictError');
}

const BASE = `
ATTRIBUTE	User-Name		1	string
ATTRIBUTE	User-Password		2	string	encrypt=User-Password
ATTRIBUTE	NAS-Port		5	integer
ATTRIBUTE	Service-Type		6	uint32
ATTRIBUTE	Vendor-Specific		26	vsa
`;

describe('v4 syntax', () => {
  const d = load(`
BEGIN PROTOCOL	RADIUS	1	verify=lib
$INCLUDE	dictionary.base
$INCLUDE-	dictionary.missing
VALUE	Service-Type	Login-User	1
VALUE	Service-Type	Framed-User	2
VALUE	Service-Type	Login		1
VALUE	Late-Enum	Early-Name	1
ATTRIBUTE	Late-Enum	136	uint32
VALUE	Late-Enum	Proper-Name	1
ATTRIBUTE	Tunnel-Password		69	string	has_tag,encrypt=Tunnel-Password
ATTRIBUTE	EAP-Message		79	octets	concat
ATTRIBUTE	Secret-Thing		80	octets	encrypt=Ascend-Secret
ATTRIBUTE	Extended-Attribute-1	241	tlv	extended
ATTRIBUTE	Vendor-Specific		.26	vsa
ALIAS		Extended-Vendor-Specific-1	Vendor-Specific
ATTRIBUTE	Frag-Status		241.1	uint32
ATTRIBUTE	Extended-Attribute-5	245	tlv	long_extended
ATTRIBUTE	Vendor-Specific		.26	vsa
ALIAS	Framed-Address	Framed-IP-Address
ATTRIBUTE	Framed-IP-Address	8	ipv4addr

VENDOR	Cisco	9
BEGIN-VENDOR	Cisco
ATTRIBUTE	AVPair		1	string
ATTRIBUTE	Cisco-NAS-Port	2	string
VALUE	AVPair	Foo	bar
END-VENDOR	Cisco

VENDOR	WiMAX	24757	format=1,1,c
BEGIN-VENDOR	WiMAX
ATTRIBUTE	Capability	1	tlv
ATTRIBUTE	Release		.1	string
ATTRIBUTE	Accounting-Capabilities	.2	byte
VALUE	Accounting-Capabilities	Flow-Based	2
ATTRIBUTE	MSK		5	octets[32]	encrypt=Tunnel-Password
ATTRIBUTE	Src		6	tlv
ATTRIBUTE	Port		.1	uint16
ATTRIBUTE	Dst		7	auto	clone=.Src
END-VENDOR	WiMAX

VENDOR	USR	429	format=4,0
VENDOR	Altiga	3076
VENDOR	Cisco-VPN3000	3076
BEGIN-VENDOR	Cisco-VPN3000
ATTRIBUTE	Access-Hours	1	string
END-VENDOR	Cisco-VPN3000
VENDOR	Lucent	4846	format=2,1
BEGIN-VENDOR	Lucent
ATTRIBUTE	Big-One		0x1000	uint32
END-VENDOR	Lucent

VENDOR	FreeRADIUS	11344
BEGIN-VENDOR	FreeRADIUS	parent=.Extended-Attribute-5.Vendor-Specific
ATTRIBUTE	EVS-Thing	1	octets
END-VENDOR	FreeRADIUS

ATTRIBUTE	Location-Capable	131	struct
MEMBER	Civic		bit[1]
MEMBER	Geo		bit[3]
MEMBER	Rest		bit[4]
MEMBER	Code		uint8
VALUE	Code	Civic-Location	0

ATTRIBUTE	Test-Struct	132	struct
MEMBER	Key-Field	uint8	key
MEMBER	Fixed		octets[16]
MEMBER	Data		union	key=Key-Field
BEGIN Test-Struct.Data
ATTRIBUTE	Sub		1	struct
MEMBER	A		uint8
MEMBER	B		string[2]
ATTRIBUTE	Thingy		2	tlv
ATTRIBUTE	Child		.1	string
END Test-Struct.Data

ATTRIBUTE	Old-Keyed	137	struct
MEMBER	Kind		uint8	key
MEMBER	Len		uint8
STRUCT	Kind-A	Kind	1
MEMBER	A1		uint16
STRUCT	Kind-B	Kind	2
MEMBER	B1		ipaddr
MEMBER	B2		uint8

ENUM	my-enum	uint64
VALUE	my-enum	one	1
VALUE	my-enum	two	0x02
ATTRIBUTE	Enum-32		133	uint32	enum=@.my-enum
ATTRIBUTE	Enum-64		134	uint64	enum=my-enum

ATTRIBUTE	Times		135	tlv
BEGIN	Times
ATTRIBUTE	Ms		1	time_delta	precision=milliseconds,subtype=uint16
ATTRIBUTE	Nested		2	tlv
BEGIN	Nested
ATTRIBUTE	Deep		1	date	precision=seconds
END	Nested
END	Times

DEFINE	Local-Thing	string
FLAGS	internal
ATTRIBUTE	Packet-Type	1000	uint32
VALUE	Packet-Type	Access-Request	1
VALUE	Packet-Type	Access-Accept	2
ATTRIBUTE	Auth-Type	12	uint32
ATTRIBUTE	Password	2004	tlv
BEGIN	Password
ATTRIBUTE	Cleartext	2	string	secret,unsafe
END	Password
END-PROTOCOL	RADIUS
`, { 'dictionary.base': BASE });

  it('loads included files and plain attributes', () => {
    const a = d.resolve('User-Password')!;
    expect(a.attr).toBe(2);
    expect(a.type).toBe('string');
    expect(a.flags.encrypt).toBe(Encrypt.UserPassword);
    expect(d.resolve('NAS-Port')!.type).toBe('uint32');
    expect(d.resolve('framed-ip-address')!.type).toBe('ipaddr');
  });

  it('parses RADIUS flags', () => {
    const t = d.resolve('Tunnel-Password')!;
    expect(t.flags.hasTag).toBe(true);
    expect(t.flags.encrypt).toBe(Encrypt.TunnelPassword);
    expect(d.resolve('EAP-Message')!.flags.concat).toBe(true);
    expect(d.resolve('Secret-Thing')!.flags.encrypt).toBe(Encrypt.AscendSecret);
    expect(d.resolve('Extended-Attribute-1')!.flags.extended).toBe(true);
    expect(d.resolve('Extended-Attribute-5')!.flags.longExtended).toBe(true);
  });

  it('resolves aliases and relative ALIAS targets', () => {
    expect(d.resolve('Extended-Vendor-Specific-1')!.oid).toBe('241.26');
    expect(d.resolve('Framed-Address')!.fullName).toBe('Framed-IP-Address');
    expect(d.resolve('Frag-Status')!.oid).toBe('241.1');
  });

  it('prints the last VALUE name read in order; deferred VALUEs never take over', () => {
    const st = d.resolve('Service-Type')!;
    expect(st.nameOfValue(1)).toBe('Login');
    expect(st.values!.get('login')).toBe(1);
    expect(st.values!.get('login-user')).toBe(1);
    expect(st.values!.get('framed-user')).toBe(2);
    const late = d.resolve('Late-Enum')!;
    expect(late.nameOfValue(1)).toBe('Proper-Name');
    expect(late.values!.get('early-name')).toBe(1);
    expect(d.resolve('Vendor-Specific.Cisco.AVPair')!.values!.get('foo')).toBe('bar');
  });

  it('builds vendors with formats', () => {
    expect(d.vendor('Cisco')!.format).toEqual({ type: 1, length: 1, continuation: false });
    expect(d.vendor(24757)!.format).toEqual({ type: 1, length: 1, continuation: true });
    expect(d.vendor('usr')!.format).toEqual({ type: 4, length: 0, continuation: false });
    expect(d.vendor('Lucent')!.format).toEqual({ type: 2, length: 1, continuation: false });
    expect(d.resolve('Vendor-Specific.Lucent.Big-One')!.attr).toBe(0x1000);
    expect(d.vendor(9)!.type).toBe('vendor');
    expect(d.vendor(9)!.fullName).toBe('Vendor-Specific.Cisco');
    // A second VENDOR name for a number reaches the same vendor attribute (first name is canonical).
    expect(d.vendor('Cisco-VPN3000')).toBe(d.vendor(3076));
    expect(d.vendor(3076)!.name).toBe('Altiga');
    const ah = d.resolve('Vendor-Specific.Cisco-VPN3000.Access-Hours')!;
    expect(ah.fullName).toBe('Vendor-Specific.Altiga.Access-Hours');
    expect(d.resolve('Cisco-VPN3000-Access-Hours')).toBe(ah);
    expect(d.resolve('Altiga-Access-Hours')).toBe(ah);
    expect(d.vendorDef('cisco-vpn3000')!.names).toEqual(['Altiga', 'Cisco-VPN3000']);
  });

  it('scopes BEGIN-VENDOR parent= under an extended Vendor-Specific', () => {
    const a = d.resolve('Extended-Attribute-5.Vendor-Specific.FreeRADIUS.EVS-Thing')!;
    expect(a.oid).toBe('245.26.11344.1');
    expect(a.vendor).toBe(11344);
    expect(a.parent!.format).toEqual({ type: 1, length: 0, continuation: false });
  });

  it('resolves hierarchical, numeric and flat vendor names', () => {
    const av = d.resolve('Vendor-Specific.Cisco.AVPair')!;
    expect(av.oid).toBe('26.9.1');
    expect(d.resolve('26.9.1')).toBe(av);
    expect(d.resolve('Vendor-Specific.9.1')).toBe(av);
    expect(d.resolve('vendor-specific.cisco.avpair')).toBe(av);
    expect(d.resolve('Cisco-AVPair')).toBe(av);
    expect(d.resolve('AVPair')).toBe(av);
    // local name already starts with the vendor name: no Cisco-Cisco-NAS-Port
    expect(d.resolve('Cisco-NAS-Port')!.oid).toBe('26.9.2');
    expect(d.resolve('Cisco-Cisco-NAS-Port')).toBeUndefined();
    expect(d.resolve('AVPair', d.vendor('Cisco'))).toBe(av);
    expect(d.resolve('.AVPair', d.vendor('Cisco'))).toBe(av);
    expect(d.resolve('Nope')).toBeUndefined();
    expect(d.resolve('')).toBeUndefined();
    expect(d.resolve('Vendor-Specific.Cisco.Nope')).toBeUndefined();
  });

  it('nests TLVs with leading-dot numbers inside vendors', () => {
    const rel = d.resolve('Vendor-Specific.WiMAX.Capability.Release')!;
    expect(rel.oid).toBe('26.24757.1.1');
    const ac = d.resolve('26.24757.1.2')!;
    expect(ac.type).toBe('uint8');
    expect(ac.nameOfValue(2)).toBe('Flow-Based');
    const msk = d.resolve('WiMAX-MSK')!;
    expect(msk.flags.length).toBe(32);
    expect(msk.flags.encrypt).toBe(Encrypt.TunnelPassword);
  });

  it('clones attributes with type auto', () => {
    const dst = d.resolve('Vendor-Specific.WiMAX.Dst')!;
    expect(dst.type).toBe('tlv');
    expect(dst.child(1)!.name).toBe('Port');
    expect(dst.child(1)!.parent).toBe(dst);
    expect(d.resolve('Vendor-Specific.WiMAX.Dst.Port')!.oid).toBe('26.24757.7.1');
  });

  it('builds structs with bit fields, keys and unions', () => {
    const lc = d.resolve('Location-Capable')!;
    expect(lc.type).toBe('struct');
    expect(lc.members!.map((m) => [m.name, m.type, m.flags.length, m.flags.bits ?? false])).toEqual([
      ['Civic', 'uint8', 1, true], ['Geo', 'uint8', 3, true], ['Rest', 'uint8', 4, true], ['Code', 'uint8', undefined, false],
    ]);
    expect(lc.members![3]!.nameOfValue(0)).toBe('Civic-Location');
    const ts = d.resolve('Test-Struct')!;
    expect(ts.members!.map((m) => m.name)).toEqual(['Key-Field', 'Fixed', 'Data']);
    expect(ts.members![0]!.flags.key).toBe(true);
    expect(ts.members![1]!.flags.length).toBe(16);
    const data = ts.members![2]!;
    expect(data.type).toBe('union');
    expect(data.flags.unionKey).toBe('Key-Field');
    expect(data.child(1)!.members!.map((m) => m.name)).toEqual(['A', 'B']);
    expect(data.child(1)!.members![1]!.flags.length).toBe(2);
    expect(d.resolve('Test-Struct.Data.Thingy.Child')!.oid).toBe('132.3.2.1');
    // The key member names the union children.
    const key = ts.members![0]!;
    expect(key.nameOfValue(1)).toBe('Sub');
    expect(key.nameOfValue(2)).toBe('Thingy');
    expect(key.values!.get('thingy')).toBe(2);
  });

  it('maps the older STRUCT keyword onto a union member', () => {
    const s = d.resolve('Old-Keyed')!;
    expect(s.members!.map((m) => [m.name, m.type])).toEqual([['Kind', 'uint8'], ['Len', 'uint8'], ['Data', 'union']]);
    expect(s.members![2]!.flags.unionKey).toBe('Kind');
    expect(d.resolve('Old-Keyed.Data.Kind-A')!.members!.map((m) => m.name)).toEqual(['A1']);
    expect(d.resolve('Old-Keyed.Data.Kind-B')!.attr).toBe(2);
    expect(d.resolve('Old-Keyed.Data.Kind-B')!.members!.map((m) => m.name)).toEqual(['B1', 'B2']);
    expect(s.members![0]!.nameOfValue(2)).toBe('Kind-B');
  });

  it('copies ENUM values with enum=, casting to the attribute type', () => {
    expect(d.enumByName('my-enum')!.values!.get('one')).toBe(1n);
    const e32 = d.resolve('Enum-32')!;
    expect(e32.values!.get('two')).toBe(2);
    expect(e32.nameOfValue(1)).toBe('one');
    expect(d.resolve('Enum-64')!.nameOfValue(2n)).toBe('two');
  });

  it('handles nested BEGIN/END and time flags', () => {
    const ms = d.resolve('Times.Ms')!;
    expect(ms.flags.precision).toBe('milliseconds');
    expect(ms.flags.subtype).toBe('uint16');
    expect(d.resolve('Times.Nested.Deep')!.oid).toBe('135.2.1');
  });

  it('keeps internal attributes out of the wire numbering', () => {
    const pt = d.resolve('Packet-Type')!;
    expect(pt.flags.internal).toBe(true);
    expect(d.root.child(1000)).toBeUndefined();
    expect(d.internalChild(d.root, 1000)).toBe(pt);
    const at = d.resolve('Auth-Type')!;
    expect(at.flags.internal).toBe(true);
    expect(d.root.child(12)).toBeUndefined();
    const ct = d.resolve('Password.Cleartext')!;
    expect(ct.flags).toMatchObject({ internal: true, secret: true, unsafe: true });
    expect(ct.fullName).toBe('Password.Cleartext');
    const local = d.resolve('Local-Thing')!;
    expect(local.flags.internal).toBe(true);
    expect(local.flags.defined).toBe(true);
    expect(d.packetTypeName(2)).toBe('Access-Accept');
    expect(d.packetTypeCode('access-request')).toBe(1);
    expect(d.packetTypeName(99)).toBeUndefined();
  });

  it('lists every attribute', () => {
    const names = new Set([...d.attributes()].map((a) => a.fullName));
    expect(names.has('Password.Cleartext')).toBe(true);
    expect(names.has('Packet-Type')).toBe(true);
    expect(names.has('Local-Thing')).toBe(true);
    expect(names.has('Vendor-Specific.Cisco.AVPair')).toBe(true);
  });

  it('allows an identical redefinition and loading the same file twice', () => {
    const dir = fixture({ dictionary: BASE + 'ATTRIBUTE\tUser-Name\t1\tstring\n' });
    const d2 = Dictionary.load([dir, dir]);
    expect(d2.resolve('User-Name')!.attr).toBe(1);
  });
});

describe('v3 syntax', () => {
  const d = load(`
# comment line
VALUE	Framed-Protocol		PPP		1
ATTRIBUTE	User-Name		1	string
ATTRIBUTE	User-Password		2	string	encrypt=1
ATTRIBUTE	Framed-Protocol		7	integer
ATTRIBUTE	Vendor-Specific		26	octets
ATTRIBUTE	Tunnel-Password		69	string	has_tag,encrypt=2
ATTRIBUTE	Ascend-Send-Secret	214	string	encrypt=3
ATTRIBUTE	Short-One		0xF0	short	# trailing comment
ATTRIBUTE	Byte-One		241	byte
ATTRIBUTE	Signed-One		242	signed
ATTRIBUTE	Wide-One		243	integer64
ATTRIBUTE	V4-One			244	ipv4addr
ATTRIBUTE	Extended-Attribute-1	245	extended
ATTRIBUTE	Frag-Status		245.1	integer
ATTRIBUTE	Extended-Vendor-Specific-1	245.26	evs
ATTRIBUTE	Extended-Attribute-5	246	long-extended
VALUE	Signed-One	Minus-One	-1
VALUE	Wide-One	Big	0x100000000

VENDOR	Cisco	9
BEGIN-VENDOR	Cisco
ATTRIBUTE	Cisco-AVPair		1	string
VALUE	Cisco-AVPair	Hello	world
END-VENDOR	Cisco
ATTRIBUTE	Cisco-NAS-Port		26.9.2	string

VENDOR	WiMAX	24757	format=1,1,c
BEGIN-VENDOR	WiMAX
ATTRIBUTE	WiMAX-Capability	1	tlv
ATTRIBUTE	WiMAX-Release		1.1	string
BEGIN-TLV	WiMAX-Capability
ATTRIBUTE	WiMAX-Hotline		3	byte
END-TLV		WiMAX-Capability
END-VENDOR	WiMAX

VENDOR	FreeRADIUS	11344
BEGIN-VENDOR	FreeRADIUS	format=Extended-Vendor-Specific-1
ATTRIBUTE	FreeRADIUS-EVS-Int	1	integer
END-VENDOR	FreeRADIUS
`);

  it('maps v3 type names', () => {
    expect(d.resolve('Framed-Protocol')!.type).toBe('uint32');
    expect(d.resolve('Short-One')!.type).toBe('uint16');
    expect(d.resolve('Short-One')!.attr).toBe(0xf0);
    expect(d.resolve('Byte-One')!.type).toBe('uint8');
    expect(d.resolve('Signed-One')!.type).toBe('int32');
    expect(d.resolve('Wide-One')!.type).toBe('uint64');
    expect(d.resolve('V4-One')!.type).toBe('ipaddr');
    expect(d.resolve('Vendor-Specific')!.type).toBe('vsa');
  });

  it('maps v3 flags and extended types', () => {
    expect(d.resolve('User-Password')!.flags.encrypt).toBe(Encrypt.UserPassword);
    expect(d.resolve('Tunnel-Password')!.flags).toMatchObject({ hasTag: true, encrypt: Encrypt.TunnelPassword });
    expect(d.resolve('Ascend-Send-Secret')!.flags.encrypt).toBe(Encrypt.AscendSecret);
    const ext = d.resolve('Extended-Attribute-1')!;
    expect(ext.type).toBe('tlv');
    expect(ext.flags.extended).toBe(true);
    expect(d.resolve('Extended-Attribute-5')!.flags.longExtended).toBe(true);
    expect(d.resolve('Extended-Vendor-Specific-1')!.type).toBe('vsa');
    expect(d.resolve('Frag-Status')!.oid).toBe('245.1');
  });

  it('accepts VALUE before ATTRIBUTE and parses typed values', () => {
    expect(d.resolve('Framed-Protocol')!.nameOfValue(1)).toBe('PPP');
    expect(d.resolve('Signed-One')!.values!.get('minus-one')).toBe(-1);
    expect(d.resolve('Wide-One')!.values!.get('big')).toBe(0x100000000n);
    expect(d.resolve('Cisco-AVPair')!.values!.get('hello')).toBe('world');
  });

  it('places v3 vendor attributes, dotted numbers and BEGIN-TLV', () => {
    expect(d.resolve('Cisco-AVPair')!.fullName).toBe('Vendor-Specific.Cisco.Cisco-AVPair');
    expect(d.resolve('Cisco-NAS-Port')!.oid).toBe('26.9.2');
    expect(d.resolve('WiMAX-Release')!.oid).toBe('26.24757.1.1');
    expect(d.resolve('Vendor-Specific.WiMAX.WiMAX-Capability.WiMAX-Hotline')!.oid).toBe('26.24757.1.3');
    expect(d.resolve('FreeRADIUS-EVS-Int')!.oid).toBe('245.26.11344.1');
  });
});

describe('$INCLUDE', () => {
  it('follows relative paths from the including file and absolute paths', () => {
    const dir = fixture({
      'sub/dictionary.one': 'ATTRIBUTE\tOne\t1\tstring\n$INCLUDE dictionary.two\n',
      'sub/dictionary.two': 'ATTRIBUTE\tTwo\t2\tstring\n',
      'abs/dictionary.three': 'ATTRIBUTE\tThree\t3\tstring\n',
      'glob/dictionary.a': 'ATTRIBUTE\tFour\t4\tstring\n',
      'glob/dictionary.b': 'ATTRIBUTE\tFive\t5\tstring\n',
    });
    fs.writeFileSync(path.join(dir, 'dictionary'),
      `$INCLUDE sub/dictionary.one\n$INCLUDE ${path.join(dir, 'abs/dictionary.three')}\n$INCLUDE- nothing/here\n$INCLUDE glob/dictionary.*\n`);
    const d = Dictionary.load(dir);
    expect(['One', 'Two', 'Three', 'Four', 'Five'].map((n) => d.resolve(n)?.attr)).toEqual([1, 2, 3, 4, 5]);
  });

  it('loads text with loadText', () => {
    const d = new Dictionary();
    d.loadText('ATTRIBUTE\tFoo\t1\tstring\n', 'inline');
    expect(d.resolve('Foo')!.type).toBe('string');
    const e = dictError(() => d.loadText('\nBOGUS\n', 'inline'));
    expect(e.message).toBe('inline[2]: unknown keyword \'BOGUS\'');
  });
});

describe('errors are located as file[line]: message', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown keyword', 'FOO bar', /unknown keyword 'FOO'/],
    ['unknown flag', 'ATTRIBUTE X 1 string bogus', /unknown flag 'bogus'/],
    ['v2 vendor flag', 'ATTRIBUTE X 1 string Cisco', /unknown flag 'Cisco'/],
    ['unknown type', 'ATTRIBUTE X 1 strang', /unknown data type 'strang'/],
    ['bad number', 'ATTRIBUTE X 1x string', /Invalid ATTRIBUTE number/],
    ['missing fields', 'ATTRIBUTE X 1', /Invalid ATTRIBUTE syntax/],
    ['bad name', 'ATTRIBUTE X! 1 string', /Invalid character '!' in attribute name "X!"/],
    ['relative without parent', 'ATTRIBUTE X .1 string', /no preceding attribute/],
    ['unknown parent', 'ATTRIBUTE X 200.1 string', /Unknown attribute '200' in OID string "200.1" for parent RADIUS/],
    ['leaf parent', 'ATTRIBUTE Y 1 string\nATTRIBUTE X 1.1 string', /cannot have children/],
    ['conflicting redefinition', 'ATTRIBUTE X 1 string\nATTRIBUTE X 2 string', /'X' is already defined at .*\[1\]/],
    ['number clash', 'ATTRIBUTE X 1 string\nATTRIBUTE Y 1 uint32', /number 1 is already used by 'X'/],
    ['bad encrypt', 'ATTRIBUTE X 1 string encrypt=9', /unknown encrypt method/],
    ['bad precision', 'ATTRIBUTE X 1 time_delta precision=eons', /unknown precision/],
    ['precision on string', 'ATTRIBUTE X 1 string precision=seconds', /precision= needs/],
    ['bad subtype', 'ATTRIBUTE X 1 time_delta subtype=string', /subtype must be an integer type/],
    ['flag value missing', 'ATTRIBUTE X 1 string ref', /flag 'ref' needs a value/],
    ['flag value unexpected', 'ATTRIBUTE X 1 string secret=1', /flag 'secret' takes no value/],
    ['bit outside MEMBER', 'ATTRIBUTE X 1 bit[3]', /only allowed in MEMBER/],
    ['bad size', 'ATTRIBUTE X 1 uint32[4]', /Attributes of type 'uint32' cannot use the uint32\[...\] syntax/],
    ['auto without clone', 'ATTRIBUTE X 1 auto', /'auto' needs clone=/],
    ['clone target missing', 'ATTRIBUTE X 1 tlv clone=Nope', /clone target 'Nope' not found/],
    ['extended on leaf', 'ATTRIBUTE X 1 string extended', /extended flags need type tlv/],
    ['VALUE unknown attribute', 'VALUE Nope Foo 1', /Attribute 'Nope' does not exist in dictionary "RADIUS"/],
    ['VALUE bad integer', 'ATTRIBUTE X 1 uint8\nVALUE X Foo 256', /integer overflow: Invalid VALUE '256' for attribute 'X' of data type 'uint8'/],
    ['VALUE not a number', 'ATTRIBUTE X 1 uint32\nVALUE X Foo bar', /Failed parsing string as type 'uint32': Invalid VALUE 'bar'/],
    ['VALUE on tlv', 'ATTRIBUTE X 1 tlv\nVALUE X Foo 1', /has no values/],
    ['VALUE arity', 'ATTRIBUTE X 1 uint32\nVALUE X Foo', /VALUE needs/],
    ['ALIAS target missing', 'ALIAS Foo Nope', /target 'Nope' not found/],
    ['ALIAS name taken', 'ATTRIBUTE X 1 string\nATTRIBUTE Y 2 string\nALIAS X Y', /name is already used by 'X'/],
    ['VENDOR bad number', 'VENDOR Foo abc', /invalid vendor number/],
    ['VENDOR bad format', 'VENDOR Foo 1 format=3,1', /type size must be 1, 2 or 4/],
    ['VENDOR bad length', 'VENDOR Foo 1 format=1,3', /length size must be 0, 1 or 2/],
    ['VENDOR bad continuation', 'VENDOR Foo 1 format=2,1,c', /continuation needs format=1,1,c/],
    ['VENDOR unknown flag', 'VENDOR Foo 1 colour=red', /unknown VENDOR flag/],
    ['VENDOR renumbered', 'VENDOR Foo 1\nVENDOR Foo 2', /already defined with number 1/],
    ['VENDOR reformatted', 'VENDOR Foo 1\nVENDOR Foo 1 format=2,2', /already defined with format=1,1/],
    ['BEGIN-VENDOR unknown', 'BEGIN-VENDOR Nope', /unknown vendor/],
    ['BEGIN-VENDOR without VSA', 'VENDOR Foo 1\nBEGIN-VENDOR Foo', /no Vendor-Specific attribute/],
    ['BEGIN-VENDOR bad parent', 'VENDOR Foo 1\nBEGIN-VENDOR Foo parent=Nope', /unknown parent attribute 'Nope'/],
    ['BEGIN-VENDOR parent not vsa', 'ATTRIBUTE X 1 tlv\nVENDOR Foo 1\nBEGIN-VENDOR Foo parent=X', /not vsa/],
    ['vendor number too big', 'ATTRIBUTE Vendor-Specific 26 vsa\nVENDOR Foo 1\nBEGIN-VENDOR Foo\nATTRIBUTE X 256 string', /too large for vendor Foo/],
    ['END-VENDOR mismatch', 'ATTRIBUTE Vendor-Specific 26 vsa\nVENDOR Foo 1\nVENDOR Bar 2\nBEGIN-VENDOR Foo\nEND-VENDOR Bar', /does not match BEGIN-VENDOR Foo/],
    ['END-VENDOR alone', 'END-VENDOR Foo', /without a matching BEGIN-VENDOR/],
    ['unclosed BEGIN-VENDOR', 'ATTRIBUTE Vendor-Specific 26 vsa\nVENDOR Foo 1\nBEGIN-VENDOR Foo\n', /no matching END at end of file/],
    ['BEGIN unknown', 'BEGIN Nope', /unknown attribute/],
    ['BEGIN leaf', 'ATTRIBUTE X 1 string\nBEGIN X', /not a structural type/],
    ['END alone', 'END Foo', /without a matching BEGIN/],
    ['END mismatch', 'ATTRIBUTE X 1 tlv\nATTRIBUTE Y 2 tlv\nBEGIN X\nEND Y', /does not match BEGIN x/],
    ['END-TLV alone', 'END-TLV Foo', /without a matching BEGIN-TLV/],
    ['BEGIN PROTOCOL other', 'BEGIN PROTOCOL DHCPv4 2', /does not match this dictionary's protocol/],
    ['BEGIN PROTOCOL number', 'BEGIN PROTOCOL RADIUS 7', /has number 1, not 7/],
    ['END-PROTOCOL alone', 'END-PROTOCOL RADIUS', /without a matching BEGIN PROTOCOL/],
    ['MEMBER without struct', 'MEMBER X uint8', /must follow an ATTRIBUTE of type struct/],
    ['MEMBER after tlv', 'ATTRIBUTE S 1 struct\nMEMBER A tlv\nMEMBER B uint8', /no member may follow tlv/],
    ['MEMBER duplicate', 'ATTRIBUTE S 1 struct\nMEMBER A uint8\nMEMBER A uint8', /already has a member of that name/],
    ['union without key', 'ATTRIBUTE S 1 struct\nMEMBER A uint8\nMEMBER D union', /union member needs key=/],
    ['union bad key', 'ATTRIBUTE S 1 struct\nMEMBER A uint8\nMEMBER D union key=A', /not a key member/],
    ['key= on ATTRIBUTE', 'ATTRIBUTE X 1 uint8 key=Foo', /only allowed on a union MEMBER/],
    ['STRUCT without key', 'ATTRIBUTE S 1 struct\nMEMBER A uint8\nSTRUCT T A 1', /'A' is not a key member/],
    ['STRUCT bad value', 'ATTRIBUTE S 1 struct\nMEMBER A uint8 key\nSTRUCT T A x', /invalid key value 'x'/],
    ['ENUM structural', 'ENUM E tlv', /cannot have values/],
    ['enum= missing', 'ATTRIBUTE X 1 uint32 enum=Nope', /enum=Nope not found/],
    ['enum= does not fit', 'ENUM E uint32\nVALUE E Big 300\nATTRIBUTE X 1 uint8 enum=E', /does not fit type uint8/],
    ['FLAGS unknown', 'FLAGS shiny', /unknown FLAGS value/],
    ['$INCLUDE missing', '$INCLUDE nope.txt', /cannot read dictionary .*nope\.txt/],
    ['$INCLUDE arity', '$INCLUDE', /\$INCLUDE needs exactly one file name/],
    ['PROTOCOL bad', 'PROTOCOL RADIUS x', /invalid protocol number/],
  ];
  for (const [what, text, re] of cases) {
    it(what, () => {
      const dir = fixture({ dictionary: text + '\n' });
      const e = dictError(() => Dictionary.load(dir));
      const lines = text.split('\n');
      // The problem is on the last line of each sample (or at end of file for unclosed blocks).
      const expectedLine = /end of file/.test(re.source) ? lines.length + 1 : lines.length;
      expect(e.file).toBe(path.join(dir, 'dictionary'));
      expect(e.line).toBe(expectedLine);
      expect(e.message.startsWith(`${e.file}[${e.line}]: `)).toBe(true);
      expect(e.detail).toMatch(re);
    });
  }

  it('reports a recursive $INCLUDE at the including line', () => {
    const dir = fixture({ dictionary: '$INCLUDE dictionary.a\n', 'dictionary.a': '\n$INCLUDE dictionary\n' });
    const e = dictError(() => Dictionary.load(dir));
    expect(e.file).toBe(path.join(dir, 'dictionary.a'));
    expect(e.line).toBe(2);
    expect(e.detail).toMatch(/recursive \$INCLUDE/);
  });

  it('reports errors inside included files with their own name', () => {
    const dir = fixture({ dictionary: '$INCLUDE dictionary.a\n', 'dictionary.a': '# x\nATTRIBUTE X 1 nosuchtype\n' });
    const e = dictError(() => Dictionary.load(dir));
    expect(e.message).toBe(`${path.join(dir, 'dictionary.a')}[2]: unknown data type 'nosuchtype'`);
  });

  it('reports a missing top-level file at line 0', () => {
    const e = dictError(() => Dictionary.load(path.join(tmp, 'does-not-exist')));
    expect(e.line).toBe(0);
    expect(e.message).toMatch(/does-not-exist\[0\]: cannot open dictionary/);
  });
});
