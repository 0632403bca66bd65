/**
 * The data types of attribute values and their JavaScript representation: the names the
 * dictionary declares attributes with (`core/dict`) and the values `core/value` parses, prints,
 * encodes, compares and casts. A leaf: it imports nothing, so the dictionary and the value
 * library can both build on it without importing each other.
 */

/** Leaf data types: each holds one value. */
export type LeafType =
  | 'string' | 'octets' | 'abinary'
  | 'ipaddr' | 'ipv6addr' | 'ipv4prefix' | 'ipv6prefix' | 'combo-ip' | 'combo-prefix'
  | 'ifid' | 'ether' | 'bool'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'float32' | 'float64'
  | 'date' | 'time_delta' | 'size' | 'attribute';

/** Structural types: hold children, not a value. */
export type StructuralType = 'tlv' | 'struct' | 'vsa' | 'vendor' | 'group' | 'union' | 'root';

export type DataType = LeafType | StructuralType;

/** Time resolution of `date` and `time_delta` attributes on the wire. */
export type TimePrecision =
  | 'seconds' | 'milliseconds' | 'microseconds' | 'nanoseconds'
  | 'centiseconds' | 'minutes' | 'hours' | 'days' | 'weeks' | 'months' | 'years';

/**
 * JavaScript representation of attribute values, by dictionary data type.
 *
 * | data type                                   | JS value                                  |
 * |---------------------------------------------|-------------------------------------------|
 * | string                                      | string (UTF-8 on the wire)                |
 * | octets, abinary                             | Buffer                                    |
 * | ipaddr, ipv6addr, combo-ip                  | string, canonical text (`192.0.2.1`, `::1`) |
 * | ipv4prefix, ipv6prefix, combo-prefix        | string, `addr/len` (`10.0.0.0/8`)          |
 * | ifid                                        | string, `0000:0000:0000:0001`             |
 * | ether                                       | string, `00:11:22:33:44:55` (lower case)   |
 * | bool                                        | boolean                                   |
 * | uint8/16/32, int8/16/32, float32/64         | number                                    |
 * | uint64, int64, size                         | bigint                                    |
 * | date                                        | number: seconds since the epoch (may be fractional) |
 * | time_delta                                  | number: seconds (may be fractional, may be negative) |
 *
 * Structural types (tlv, struct, vsa, vendor, group, union) have no value;
 * their pairs carry children instead.
 */
export type Value = string | number | bigint | boolean | Buffer;
