/**
 * Dictionary model: a tree of attribute definitions per protocol, as in FreeRADIUS v4.
 *
 * Every attribute has a parent (the protocol root has none), a number that is
 * unique among its siblings, and a data type. Vendors are attributes of type
 * `vendor` under a `vsa` attribute (e.g. `Vendor-Specific.Cisco` is 26.9).
 * Internal attributes (flag `internal`) live in the same name space but are
 * never encoded; they are not reachable by number through `child()`.
 */

import type { LeafType, TimePrecision } from '../types/data-types';

/** RFC 2865 / 2868 / Ascend attribute-hiding methods (`encrypt=1|2|3`). */
export const enum Encrypt {
  None = 0,
  UserPassword = 1,
  TunnelPassword = 2,
  AscendSecret = 3,
}

export interface AttrFlags {
  /** Never encoded; server-side only (Auth-Type, Password.Cleartext …). */
  internal?: boolean;
  /** Value is several fixed-size items packed back to back. */
  array?: boolean;
  /** Long value split over several attributes of the same type (EAP-Message). */
  concat?: boolean;
  /** RFC 2868 tag byte. */
  hasTag?: boolean;
  encrypt?: Encrypt;
  /** RFC 6929 extended (241–244) or long-extended (245–246) top-level attribute. */
  extended?: boolean;
  longExtended?: boolean;
  /** Has no wire form; computed (e.g. by xlat). */
  virtual?: boolean;
  /** Value is a secret: never logged in clear. */
  secret?: boolean;
  unsafe?: boolean;
  /** Struct member whose value selects the union child. */
  key?: boolean;
  /** Fixed length in bytes (`octets[16]`, `string[2]`) or bits for `bit[n]` members. */
  length?: number;
  /** Struct member of `bit[n]` type: length is in bits. */
  bits?: boolean;
  precision?: TimePrecision;
  /** Wire integer type of a `date`/`time_delta` (`subtype=uint16`). */
  subtype?: LeafType;
  counter?: boolean;
  /** `clone=<ref>` / `ref=<ref>` targets, resolved at load time. */
  clone?: string;
  ref?: string;
  /** Struct union member: name of the sibling key field. */
  unionKey?: string;
  /** Created at run time for an unknown or malformed attribute; printed as `raw.…`. */
  raw?: boolean;
  /** `enum=<ref>`: the attribute's values were copied from this ENUM or attribute. */
  enumRef?: string;
  /** `flat` (v4): a group/TLV whose children are encoded without nesting. */
  flat?: boolean;
  /** `offset=N` (v4 struct layout hint); kept for tools, not interpreted. */
  offset?: number;
  /** Attribute was created by `DEFINE` (no number, never encoded). */
  defined?: boolean;
}

/** How a vendor lays out its VSAs (`VENDOR name id format=t,l[,c]`). */
export interface VendorFormat {
  /** Bytes of the vendor attribute type: 1, 2 or 4. */
  type: 1 | 2 | 4;
  /** Bytes of the vendor attribute length: 0, 1 or 2. */
  length: 0 | 1 | 2;
  /** WiMAX-style continuation byte after the length. */
  continuation: boolean;
}

export const DEFAULT_VENDOR_FORMAT: VendorFormat = Object.freeze({ type: 1, length: 1, continuation: false }) as VendorFormat;

/**
 * Where a definition came from, so errors and tools can point at it.
 */
export interface DictLocation {
  readonly file: string;
  readonly line: number;
}
