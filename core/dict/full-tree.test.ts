import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Dictionary, Encrypt, defaultDictionaryPath, loadDefaultDictionary } from './index';

const SHARED = path.resolve(__dirname, '../../../shared/conformance');
const RADIUS_FULL = path.join(SHARED, 'dictionaries/radius-full');
const INTERNAL = path.join(SHARED, 'dictionaries/freeradius-internal/dictionary');
const TEST_DICT = path.join(SHARED, 'radius-vectors/dictionary.test');
const V3_INTERNAL = path.join(SHARED, 'dictionaries/freeradius-internal/v3/dictionary.freeradius.internal');

describe('FreeRADIUS v4 dictionary trees', () => {
  it('../shared/conformance is present beside the checkout', () => {
    expect(fs.existsSync(RADIUS_FULL), `${RADIUS_FULL} is missing: clone the repository beside ../shared`).toBe(true);
  });

  let d: Dictionary;
  let loadMs = 0;
  beforeAll(() => {
    const t0 = performance.now();
    d = Dictionary.load([RADIUS_FULL, INTERNAL, TEST_DICT]);
    loadMs = performance.now() - t0;
    d.loadFile(V3_INTERNAL); // v3 compatibility ALIASes (Cleartext-Password …)
  });

  it('loads radius-full, the internal dictionary and the test dictionary together', () => {
    let n = 0;
    for (const _ of d.attributes()) n++;
    expect(n).toBeGreaterThan(8000);
    console.log(`radius-full + internal + test dictionaries: ${n} attributes loaded in ${loadMs.toFixed(0)} ms (informational; speed belongs in bench/)`);
  });

  it('has the RFC attributes with their flags', () => {
    const up = d.resolve('User-Password')!;
    expect(up.oid).toBe('2');
    expect(up.flags.encrypt).toBe(Encrypt.UserPassword);
    const tp = d.resolve('Tunnel-Password')!;
    expect(tp.flags.hasTag).toBe(true);
    expect(tp.flags.encrypt).toBe(Encrypt.TunnelPassword);
    expect(d.resolve('EAP-Message')!.flags.concat).toBe(true);
    const e5 = d.resolve('Extended-Attribute-5')!;
    expect(e5.type).toBe('tlv');
    expect(e5.flags.longExtended).toBe(true);
    expect(d.resolve('Extended-Attribute-1')!.flags.extended).toBe(true);
    expect(d.resolve('Extended-Vendor-Specific-2')!.oid).toBe('242.26');
    expect(d.root.child(26)!.type).toBe('vsa');
  });

  it('prints VALUE names as FreeRADIUS does', () => {
    expect(d.resolve('Tunnel-Medium-Type')!.nameOfValue(1)).toBe('IPv4'); // later VALUE line wins
    expect(d.resolve('Service-Type')!.nameOfValue(1)).toBe('Login-User'); // compat VALUE is deferred
    expect(d.resolve('Framed-Compression')!.nameOfValue(1)).toBe('Van-Jacobson-TCP-IP');
    expect(d.resolve('Acct-Status-Type')!.nameOfValue(3)).toBe('Interim-Update');
    expect(d.resolve('Service-Type')!.values!.get('login')).toBe(1);
  });

  it('has vendor formats', () => {
    expect(d.vendor('WiMAX')!.format).toEqual({ type: 1, length: 1, continuation: true });
    expect(d.vendor('USR')!.format).toEqual({ type: 4, length: 0, continuation: false });
    expect(d.vendor('Lucent')!.format).toEqual({ type: 2, length: 1, continuation: false });
    expect(d.vendor(9)!.name).toBe('Cisco');
    expect(d.vendor(9)!.format).toEqual({ type: 1, length: 1, continuation: false });
    expect(d.vendor('Cisco-ASA')).toBe(d.vendor(3076));
  });

  it('resolves v3 flat vendor names to canonical attributes', () => {
    const av = d.resolve('Cisco-AVPair')!;
    expect(av.oid).toBe('26.9.1');
    expect(av.fullName).toBe('Vendor-Specific.Cisco.AVPair');
    expect(d.resolve('Vendor-Specific.Cisco.AVPair')).toBe(av);
    expect(d.resolve('26.9.1')).toBe(av);
    expect(d.resolve('Actual-Data-Rate-Upstream')!.fullName).toBe('Vendor-Specific.ADSL-Forum.Actual-Data-Rate-Upstream');
    expect(d.resolve('WISPr-Bandwidth-Max-Down')!.fullName).toBe('Vendor-Specific.WISPr.Bandwidth-Max-Down');
    expect(d.resolve('3GPP')).toBe(d.vendor(10415));
  });

  it('has WiMAX nested TLVs and clones', () => {
    const rel = d.resolve('Vendor-Specific.WiMAX.Capability.Release')!;
    expect(rel.oid).toBe('26.24757.1.1');
    expect(rel.type).toBe('string');
    const ip = d.resolve('Vendor-Specific.WiMAX.Packet-Flow-Descriptor.Classifier.Src-Spec.IP-Address')!;
    expect(ip).toBeDefined();
    const low = d.resolve('Vendor-Specific.WiMAX.Packet-Flow-Descriptor-v2.Classifier.Classifier-Eth-Option.Eth-Priority-Range.Low')!;
    expect(low.type).toBe('uint8');
    // clone=...Packet-Flow-Descriptor.Classifier.Src-Spec, then two more children
    const src2 = d.resolve('Vendor-Specific.WiMAX.Packet-Flow-Descriptor-v2.Classifier.Src-Spec')!;
    expect(src2.type).toBe('tlv');
    expect(src2.child(8)!.name).toBe('MAC-Address');
    expect(src2.children.size).toBeGreaterThan(2);
  });

  it('has internal attributes by name but not by wire number', () => {
    const ct = d.resolve('Password.Cleartext')!;
    expect(ct.flags.internal).toBe(true);
    expect(ct.flags.secret).toBe(true);
    const at = d.resolve('Auth-Type')!;
    expect(at.flags.internal).toBe(true);
    expect(d.root.child(12)!.name).toBe('Framed-MTU');
    expect(d.packetTypeName(1)).toBe('Access-Request');
    expect(d.packetTypeCode('CoA-Request')).toBe(43);
    expect(d.resolve('Packet-Type')!.flags.internal).toBe(true);
    expect(d.resolve('Cleartext-Password')).toBe(ct);
  });

  it('looks through group attributes into the protocol root', () => {
    const sa = d.resolve('Tag-1.Vendor-Specific.Unisphere.Service-Activate')!;
    expect(sa.fullName).toBe('Vendor-Specific.Unisphere.Service-Activate');
    expect(d.groupRef(d.resolve('Tag-1')!)).toBe(d.root);
    const dhcp = d.resolve('Extended-Attribute-5.DHCPv4-Options')!;
    expect(dhcp.flags.ref).toBe('@DHCPv4');
    expect(d.groupRef(dhcp)).toBeUndefined(); // another protocol: not loaded here
    expect(d.resolve('request.User-Name')).toBe(d.resolve('User-Name'));
  });

  it('has structs, unions and ENUM references from dictionary.test', () => {
    const s = d.resolve('Test-Struct2')!;
    expect(s.type).toBe('struct');
    expect(s.members!.map((m) => m.name)).toEqual(['Key-Field', 'Data']);
    expect(s.members![0]!.flags.key).toBe(true);
    const data = s.members![1]!;
    expect(data.type).toBe('union');
    expect(data.flags.unionKey).toBe('Key-Field');
    expect(data.child(1)!.members!.map((m) => m.name)).toEqual(['Nested-Uint1', 'Nested-Uint2']);
    expect(data.child(2)!.flags.length).toBe(2);
    expect(d.resolve('Test-Struct2.Data.Thingy.Child')!.type).toBe('string');
    expect(s.members![0]!.nameOfValue(1)).toBe('Sub-Struct');
    expect(s.members![0]!.nameOfValue(2)).toBe('CC');
    expect(d.resolve('Unit-TLV.Test-Enum-Integer32')!.values!.get('three')).toBe(3);
    expect(d.resolve('Unit-TLV.Test-Enum-Integer64')!.values!.get('three')).toBe(3n);
    expect(d.resolve('Unit-TLV.Delta-MSec-uint16')!.flags).toMatchObject({ precision: 'milliseconds', subtype: 'uint16' });
    expect(d.resolve('Extended-Attribute-2.Vendor-Specific.FreeRADIUS.Unit-EVS-Integer')!.oid).toBe('242.26.11344.1');
    expect(d.resolve('Unit-Ext-241-Struct2.Unit-Struct2-TLV.Unit-Struct2-TLV-String', d.resolve('Extended-Attribute-1'))!.oid)
      .toBe('241.248.3.3');
    const loc = d.resolve('Location-Capable')!;
    expect(loc.members!.map((m) => m.flags.length)).toEqual([1, 1, 1, 1, 4]);
    expect(loc.members!.every((m) => m.flags.bits)).toBe(true);
    expect(d.resolve('Location-Information.Code')!.nameOfValue(1)).toBe('Geospatial-Location');
  });

  it('resolves 3GPP union children declared with BEGIN … END', () => {
    const uli = d.resolve('Vendor-Specific.3GPP.User-Location-Info')!;
    expect(uli.members!.map((m) => m.name)).toEqual(['Type', 'PLMN-ID', 'Data']);
    expect(uli.members![1]!.flags.length).toBe(3);
    expect(d.resolve('Vendor-Specific.3GPP.User-Location-Info.Data.TAI-ECGI')!.members!.length).toBe(3);
    expect(d.resolve('Vendor-Specific.3GPP.User-Location-Info.Data.CGI')!.attr).toBe(0);
  });
});

describe('default dictionary', () => {
  it('points at dictionaries/radius/dictionary in the repository', () => {
    const p = defaultDictionaryPath();
    expect(path.isAbsolute(p)).toBe(true);
    expect(p).toBe(path.resolve(__dirname, '../../dictionaries/radius/dictionary'));
  });

  it('loads once and is cached', () => {
    const a = loadDefaultDictionary();
    expect(loadDefaultDictionary()).toBe(a);
    expect(a.resolve('User-Name')!.attr).toBe(1);
  });
});
