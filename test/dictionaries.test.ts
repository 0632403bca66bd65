/**
 * Checks the project's own RADIUS dictionaries (dictionaries/radius/): they
 * load, every RFC file and the required vendors contribute what they should,
 * every attribute the FreeRADIUS keyword tests refer to resolves, and numbers,
 * types and wire flags agree with the FreeRADIUS v4 dictionaries except where
 * dictionaries/README.md lists a deliberate difference.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DictAttr } from '../core/dict/attr';
import { Dictionary } from '../core/dict/dictionary';

const ROOT = path.resolve(__dirname, '..', 'dictionaries', 'radius', 'dictionary');
const SHARED = path.resolve(__dirname, '..', '..', 'shared', 'conformance');
const KEYWORDS = path.join(SHARED, 'keywords');
const FREERADIUS_DICT = path.join(SHARED, 'dictionaries', 'radius-full');

/** Shared test data must sit beside the repository (../shared). */
function requireShared(p: string): void {
  if (!fs.existsSync(p)) {
    throw new Error(`${p} not found: the shared folder must sit beside the repository (../shared)`);
  }
}

let dict: Dictionary;

beforeAll(() => {
  dict = Dictionary.load(ROOT);
});

/** Resolves `name` and checks its numeric OID and type. */
function expectAttr(name: string, oid: string, type?: string): void {
  const a = dict.resolve(name);
  expect(a, `${name} should resolve`).toBeDefined();
  expect(a!.oid, `${name} OID`).toBe(oid);
  if (type) expect(a!.type, `${name} type`).toBe(type);
}

describe('dictionaries/radius', () => {
  it('prints the RFC value names, not the pre-RFC compat names', () => {
    // dictionary.compat is read first, so its VALUE names are accepted as input
    // but never become the printed name (radclient and detail output stay RFC-style).
    expect(dict.resolve('Service-Type')!.nameOfValue(2)).toBe('Framed-User');
    expect(dict.resolve('Service-Type')!.values!.get('framed')).toBe(2);
    expect(dict.resolve('Framed-Compression')!.nameOfValue(1)).toBe('Van-Jacobson-TCP-IP');
    expect(dict.resolve('Acct-Status-Type')!.nameOfValue(3)).toBe('Interim-Update');
    expect(dict.resolve('Framed-Address')!.name).toBe('Framed-IP-Address');
  });

  it('loads without error', () => {
    expect(dict.root.children.size).toBeGreaterThan(150);
  });

  // One attribute (or value) per RFC file, by name, number and type.
  const rfcs: [string, string, string, string][] = [
    ['2865', 'User-Password', '2', 'string'],
    ['2866', 'Acct-Session-Id', '44', 'string'],
    ['2867', 'Acct-Tunnel-Connection', '68', 'string'],
    ['2868', 'Tunnel-Password', '69', 'string'],
    ['2869', 'Event-Timestamp', '55', 'date'],
    ['3162', 'Framed-IPv6-Prefix', '97', 'ipv6prefix'],
    ['3576', 'Error-Cause', '101', 'uint32'],
    ['4072', 'EAP-Key-Name', '102', 'octets'],
    ['4372', 'Chargeable-User-Identity', '89', 'octets'],
    ['4675', 'Egress-VLANID', '56', 'uint32'],
    ['4679', 'Vendor-Specific.ADSL-Forum.Actual-Data-Rate-Upstream', '26.3561.129', 'uint32'],
    ['4818', 'Delegated-IPv6-Prefix', '123', 'ipv6prefix'],
    ['4849', 'NAS-Filter-Rule', '92', 'string'],
    ['5090', 'Digest-Realm', '104', 'string'],
    ['5447', 'MIP6-Feature-Vector', '124', 'uint64'],
    ['5580', 'Location-Information', '127', 'struct'],
    ['5607', 'Management-Policy-Id', '135', 'string'],
    ['5904', 'PKM-SS-Cert', '137', 'octets'],
    ['6519', 'DS-Lite-Tunnel-Name', '144', 'string'],
    ['6572', 'PMIP6-Home-HN-Prefix', '151', 'ipv6prefix'],
    ['6911', 'Framed-IPv6-Address', '168', 'ipv6addr'],
    ['6929', 'Extended-Attribute-1.Vendor-Specific', '241.26', 'vsa'],
    ['6930', 'IPv6-6rd-Configuration', '173', 'tlv'],
    ['7055', 'GSS-Acceptor-Service-Name', '164', 'string'],
    ['7155', 'Originating-Line-Info', '94', 'octets'],
    ['7268', 'WLAN-Venue-Info', '182', 'struct'],
    ['7499', 'Extended-Attribute-1.Frag-Status', '241.1', 'uint32'],
    ['7930', 'Extended-Attribute-1.Response-Length', '241.3', 'uint32'],
    ['8045', 'Extended-Attribute-1.IP-Port-Limit-Info', '241.5', 'tlv'],
    ['8559', 'Extended-Attribute-1.Operator-NAS-Identifier', '241.8', 'octets'],
  ];
  it.each(rfcs)('RFC %s: %s is %s (%s)', (_rfc, name, oid, type) => expectAttr(name, oid, type));

  // RFCs that only add values to existing attributes.
  const rfcValues: [string, string, string, number][] = [
    ['3576', 'Service-Type', 'Authorize-Only', 17],
    ['3580', 'NAS-Port-Type', 'Token-Ring', 20],
    ['4603', 'NAS-Port-Type', 'PPPoEoVLAN', 33],
    ['5176', 'Error-Cause', 'Invalid-Attribute-Value', 407],
  ];
  it.each(rfcValues)('RFC %s: %s has value %s = %d', (_rfc, attr, label, num) => {
    const a = dict.resolve(attr);
    expect(a?.values?.get(label.toLowerCase())).toBe(num);
  });

  it('RFC 2868 and 2869 flags: tags, tunnel password hiding, EAP concatenation', () => {
    expect(dict.resolve('Tunnel-Type')?.flags.hasTag).toBe(true);
    expect(dict.resolve('Tunnel-Password')?.flags.encrypt).toBe(2);
    expect(dict.resolve('User-Password')?.flags.encrypt).toBe(1);
    expect(dict.resolve('EAP-Message')?.flags.concat).toBe(true);
  });

  it('RFC 6929 extended attributes 241-246 each carry a Vendor-Specific', () => {
    for (let n = 1; n <= 6; n++) {
      expectAttr(`Extended-Attribute-${n}`, String(240 + n), 'tlv');
      expectAttr(`Extended-Attribute-${n}.Vendor-Specific`, `${240 + n}.26`, 'vsa');
    }
    expect(dict.resolve('Extended-Attribute-5')?.flags.longExtended).toBe(true);
  });

  const vendors: [string, number, string, string, string][] = [
    ['Cisco', 9, 'AVPair', '1', 'string'],
    ['Microsoft', 311, 'MPPE-Send-Key', '16', 'octets'],
    ['Juniper', 2636, 'Local-User-Name', '1', 'string'],
    ['Mikrotik', 14988, 'Rate-Limit', '8', 'string'],
    ['WISPr', 14122, 'Bandwidth-Max-Down', '8', 'uint32'],
    ['Ericsson', 193, 'Access-Agent-IP-Address', '11', 'ipaddr'],
    ['Redback', 2352, 'Context-Name', '4', 'string'],
    ['ADSL-Forum', 3561, 'Agent-Circuit-Id', '1', 'octets'],
    ['WiMAX', 24757, 'Capability', '1', 'tlv'],
    ['3GPP', 10415, 'IMSI', '1', 'string'],
    ['Ascend', 529, 'Send-Secret', '214', 'string'],
    ['USR', 429, 'Last-Number-Dialed-Out', '102', 'string'],
  ];
  it.each(vendors)('vendor %s (%d): %s', (vendor, id, attr, num, type) => {
    const v = dict.vendor(id);
    expect(v, `vendor ${id}`).toBeDefined();
    expect(v!.name.toLowerCase()).toBe(vendor.toLowerCase());
    expect(dict.vendor(vendor)?.attr).toBe(id);
    expectAttr(`Vendor-Specific.${vendor}.${attr}`, `26.${id}.${num}`, type);
  });

  it('vendor flags: MPPE keys salted, Ascend secret, vendor layouts', () => {
    expect(dict.resolve('Vendor-Specific.Microsoft.MPPE-Recv-Key')?.flags.encrypt).toBe(2);
    expect(dict.resolve('Vendor-Specific.Ascend.Send-Secret')?.flags.encrypt).toBe(3);
    expect(dict.vendor('USR')?.format).toMatchObject({ type: 4, length: 0 });
    expect(dict.vendor('Lucent')?.format).toMatchObject({ type: 2, length: 1 });
    expect(dict.vendor('Starent')?.format).toMatchObject({ type: 2, length: 2 });
    expect(dict.vendor('WiMAX')?.format).toMatchObject({ type: 1, length: 1, continuation: true });
  });

  it('v3 names resolve to the hierarchical attributes', () => {
    const pairs: [string, string][] = [
      ['Cisco-AVPair', 'Vendor-Specific.Cisco.AVPair'],
      ['MS-CHAP-Challenge', 'Vendor-Specific.Microsoft.CHAP-Challenge'],
      ['MS-MPPE-Send-Key', 'Vendor-Specific.Microsoft.MPPE-Send-Key'],
      ['Mikrotik-Rate-Limit', 'Vendor-Specific.Mikrotik.Rate-Limit'],
      ['WISPr-Bandwidth-Max-Up', 'Vendor-Specific.WISPr.Bandwidth-Max-Up'],
      ['Actual-Data-Rate-Upstream', 'Vendor-Specific.ADSL-Forum.Actual-Data-Rate-Upstream'],
      ['Maximum-Data-Rate-Downstream', 'Vendor-Specific.ADSL-Forum.Maximum-Data-Rate-Downstream'],
      ['ERX-Virtual-Router-Name', 'Vendor-Specific.Unisphere.Virtual-Router-Name'],
      ['Cleartext-Password', 'Password.Cleartext'],
      ['NT-Password', 'Password.NT'],
      ['Crypt-Password', 'Password.Crypt'],
      ['SSHA-Password', 'Password.SSHA1'],
      ['Extended-Vendor-Specific-1', 'Extended-Attribute-1.Vendor-Specific'],
    ];
    for (const [v3, v4] of pairs) expect(dict.resolve(v3)?.fullName, v3).toBe(v4);
  });

  it('server-internal attributes exist and are internal', () => {
    const names = [
      'Packet-Type', 'Packet-Authentication-Vector', 'Auth-Type', 'Acct-Type', 'Password.Cleartext',
      'Password.SSHA2-512', 'Password.With-Header', 'Result-Status', 'Fall-Through', 'Packet-Src-IP-Address',
      'Packet-Dst-IPv6-Address', 'Packet-Src-Port', 'Client-IP-Address', 'Client-Shortname', 'Virtual-Server',
      'Module-Failure-Message', 'Module-Success-Message', 'Stripped-User-Name', 'Realm', 'Acct-Unique-Session-Id',
      'Tmp-String-9', 'Tmp-Integer-0', 'Tmp-Octets-3', 'Tmp-IP-Address-0', 'Tmp-Cast-String',
      'Response-Packet-Type', 'Proxy-To-Realm', 'Home-Server-Pool', 'Load-Balance-Key', 'Session-Type',
      'Simultaneous-Use', 'Expiration', 'Login-Time', 'Huntgroup-Name',
    ];
    for (const n of names) {
      const a = dict.resolve(n);
      expect(a, n).toBeDefined();
      let top = a!;
      while (top.parent && top.parent.type !== 'root') top = top.parent;
      expect(top.flags.internal, `${n} internal`).toBe(true);
    }
    // Event-Timestamp and Reply-Message are wire attributes, not internal.
    expect(dict.resolve('Event-Timestamp')?.flags.internal).toBeFalsy();
    expect(dict.resolve('Reply-Message')?.flags.internal).toBeFalsy();
  });

  it('Packet-Type names every RADIUS code', () => {
    const codes: [string, number][] = [
      ['Access-Request', 1], ['Access-Accept', 2], ['Access-Reject', 3], ['Accounting-Request', 4],
      ['Accounting-Response', 5], ['Access-Challenge', 11], ['Status-Server', 12], ['Disconnect-Request', 40],
      ['Disconnect-ACK', 41], ['Disconnect-NAK', 42], ['CoA-Request', 43], ['CoA-ACK', 44], ['CoA-NAK', 45],
      ['Protocol-Error', 52],
    ];
    for (const [name, code] of codes) {
      expect(dict.packetTypeCode(name), name).toBe(code);
      expect(dict.packetTypeName(code)).toBe(name);
    }
    const auth = dict.resolve('Auth-Type');
    for (const v of ['Accept', 'Reject', 'PAP', 'CHAP', 'MS-CHAP', 'EAP']) {
      expect(auth?.values?.has(v.toLowerCase()), `Auth-Type ${v}`).toBe(true);
    }
  });

  it('every attribute the keyword tests refer to resolves', () => {
    requireShared(KEYWORDS);
    const refs = keywordAttributeRefs(KEYWORDS);
    expect(refs.size).toBeGreaterThan(20);
    if (process.env.DICT_SHOW_REFS) console.log([...refs].sort().join('\n'));
    const missing = [...refs].filter((n) => !resolvesInKeywordContext(n)).sort();
    expect(missing).toEqual([]);
  });

  it('agrees with FreeRADIUS v4 on number, type and wire flags wherever both define an attribute', () => {
    requireShared(FREERADIUS_DICT);
    const ref = Dictionary.load(FREERADIUS_DICT);
    // Deliberate differences, listed in dictionaries/README.md.
    const allowed = new Set([
      'Location-Capable', // uint32 flag set per RFC 5580, not a struct of bits
      'Extended-Attribute-5.DHCPv4-Options', 'Extended-Attribute-5.DHCPv6-Options',
      'Vendor-Specific.Huawei.DHCP-Option', 'Vendor-Specific.Starent.DHCP-Options',
      'Vendor-Specific.Unisphere.DHCP-Options', 'Vendor-Specific.Unisphere.DHCPv6-Options',
      'Vendor-Specific.Nokia-SR.ToServer-Dhcp-Options', 'Vendor-Specific.Nokia-SR.ToClient-Dhcp-Options',
      'Vendor-Specific.Nokia-SR.ToServer-Dhcp6-Options', 'Vendor-Specific.Nokia-SR.ToClient-Dhcp6-Options',
    ]);
    const wire = (a: DictAttr) => JSON.stringify([a.type, a.flags.hasTag ?? false, a.flags.encrypt ?? 0,
      a.flags.concat ?? false, a.flags.extended ?? false, a.flags.longExtended ?? false, a.flags.length ?? 0,
      a.flags.array ?? false]);
    const diffs: string[] = [];
    let compared = 0;
    const walk = (theirs: DictAttr) => {
      for (const c of theirs.children.values()) {
        if (allowed.has(c.fullName)) continue;
        const ours = dict.resolve(c.oid);
        if (!ours) continue; // a vendor or attribute we do not ship
        compared++;
        if (wire(ours) !== wire(c)) diffs.push(`${c.fullName} (${c.oid}): FreeRADIUS ${wire(c)}, ours ${wire(ours)}`);
        else if (c.members && c.members.map((m) => m.type).join() !== (ours.members ?? []).map((m) => m.type).join()) {
          diffs.push(`${c.fullName} (${c.oid}): struct members differ`);
        }
        walk(c);
      }
    };
    walk(ref.root);
    expect(compared).toBeGreaterThan(3000);
    expect(diffs).toEqual([]);
  });
});

/**
 * A name as the keyword tests use it: hierarchical from the root, or with a
 * `group` attribute (Tmp-Group-0) as a prefix, whose children are any
 * top-level attribute.
 */
function resolvesInKeywordContext(name: string): boolean {
  if (dict.resolve(name)) return true;
  const parts = name.split('.');
  const head = dict.resolve(parts[0]);
  if (head?.type === 'group' && parts.length > 1) return dict.resolve(parts.slice(1).join('.')) !== undefined;
  return false;
}

const LIST = '(?:request|reply|control|session-state|outer\\.request|outer\\.reply|parent\\.request)';
const NAME = '[A-Za-z][A-Za-z0-9-]*(?:\\.[A-Za-z0-9][A-Za-z0-9-]*)*';

/**
 * Attribute names referenced by the keyword tests and their harness:
 * list-qualified names (`control.Auth-Type`), `Vendor-Specific.…` paths,
 * left-hand sides of edits and comparisons, names in conditions and
 * `%{Attr}` expansions. Lines marked `# ERROR` test unknown names on purpose and are skipped;
 * lower-case names are local variables or config items, not attributes.
 */
function keywordAttributeRefs(dir: string): Set<string> {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      for (const sub of fs.readdirSync(p)) if (!sub.endsWith('.md')) files.push(path.join(p, sub));
    } else if (!entry.name.endsWith('.md')) {
      files.push(p);
    }
  }
  const out = new Set<string>();
  const add = (n: string) => {
    const clean = n.replace(/\.$/, '');
    if (/^[A-Z0-9]/.test(clean)) out.add(clean);
  };
  const listRe = new RegExp(`\\b${LIST}\\.(${NAME})`, 'g');
  const vsaRe = new RegExp(`\\b(Vendor-Specific(?:\\.[A-Za-z0-9][A-Za-z0-9-]*)+)`, 'g');
  const lhsRe = new RegExp(`^\\s*&?(${NAME})(?:\\[[^\\]]*\\])?\\s*(?::=|\\+=|-=|\\^=|==|!=|<=|>=|=~|!~|=|<|>)`);
  const xlatRe = new RegExp(`(?<!\\\\)%\\{&?(${NAME})(?=[\\[}\\s])`, 'g');
  // Inside conditions: `(Attr`, `!Attr`, `(type) Attr`; a dash keeps plain words out.
  const condRe = /[(!]\s*(?:\([a-z0-9]+\)\s*)?&?([A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+(?:\.[A-Za-z0-9][A-Za-z0-9-]*)*)(?=[\s)\[=!<>])/g;
  for (const file of files) {
    if (!fs.statSync(file).isFile()) continue;
    for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
      if (/#\s*ERROR/.test(raw)) continue;
      const line = raw.replace(/(^|\s)#.*$/, '');
      for (const m of line.matchAll(listRe)) add(m[1]);
      for (const m of line.matchAll(vsaRe)) add(m[1]);
      for (const m of line.matchAll(xlatRe)) add(m[1]);
      for (const m of line.matchAll(condRe)) add(m[1]);
      const lhs = lhsRe.exec(line);
      if (lhs && !/^(request|reply|control|session-state)$/i.test(lhs[1])) add(lhs[1]);
    }
  }
  return out;
}
