/**
 * Definitions for raw and unknown attributes.
 *
 * A raw attribute is printed as `raw.NAME` (or `raw.NUMBER` when unknown) and
 * carries its value as octets. The definitions are created on demand and are
 * never added to the dictionary tree; they are cached per parent so that the
 * same unknown attribute met twice is the same `DictAttr` (pair lists can then
 * merge `raw.26.6809.1 = …, raw.26.6809.2 = …` under one parent).
 */

import { DictAttr } from '../dict/attr';
import { DEFAULT_VENDOR_FORMAT, type VendorFormat } from '../dict/types';
import type { DataType } from '../types/data-types';

const cache = new WeakMap<DictAttr, Map<string, DictAttr>>();

function cached(parent: DictAttr, key: string, make: () => DictAttr): DictAttr {
  let m = cache.get(parent);
  if (!m) {
    m = new Map();
    cache.set(parent, m);
  }
  let da = m.get(key);
  if (!da) {
    da = make();
    m.set(key, da);
  }
  return da;
}

/**
 * Raw (octets) twin of a known attribute: same name, number and parent, type
 * `octets`, flag `raw`. Used for malformed values and `raw.Name = 0x…`.
 */
export function rawOf(known: DictAttr): DictAttr {
  if (known.flags.raw && known.type === 'octets') return known;
  const parent = known.parent ?? known;
  return cached(parent, 'r:' + known.attr + ':' + known.name, () =>
    new DictAttr(known.name, known.attr, 'octets', known.parent, { raw: true }));
}

/**
 * Definition for an attribute number that the dictionary does not know under
 * `parent`. Its name is the number (printed `raw.1234`). `type` is `octets`
 * for a leaf; pass `vendor` (under a `vsa`) or `tlv` for an unknown
 * structural attribute that holds children.
 */
export function unknownAttr(parent: DictAttr, num: number, type: DataType = 'octets'): DictAttr {
  return cached(parent, 'u:' + num + ':' + type, () => {
    const da = new DictAttr(String(num), num, type, parent, { raw: true });
    if (type === 'vendor') da.format = DEFAULT_VENDOR_FORMAT;
    return da;
  });
}

/** The structural type an unknown child of `parent` gets when it has children. */
export function unknownStructuralType(parent: DictAttr): DataType {
  return parent.type === 'vsa' ? 'vendor' : 'tlv';
}

/**
 * A `vendor` definition for a declared vendor under a VSA attribute that has
 * no attributes of that vendor (e.g. Nokia-SR under `Extended-Attribute-1.Vendor-Specific`).
 * Not raw: it prints by name; its children are all unknown.
 */
export function vendorAttr(vsa: DictAttr, name: string, id: number, format: VendorFormat = DEFAULT_VENDOR_FORMAT): DictAttr {
  return cached(vsa, 'v:' + id, () => {
    const da = new DictAttr(name, id, 'vendor', vsa);
    da.format = format;
    return da;
  });
}
