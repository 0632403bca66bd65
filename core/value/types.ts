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
