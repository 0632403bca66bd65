/**
 * Typed value library: parsing, printing, wire encoding, comparison and casts
 * for every leaf data type. Pure functions, no I/O.
 */

export type { Value } from '../types/data-types';
export { ValueError } from './errors';
export {
  INT_RANGE, BIGINT_RANGE, isLeafType, isSmallIntType, isBigIntType, isIntType, isNumericType,
  leafTypeSize, wireSize, timeWireSize, timeWireSigned, jsKindOf, typeOfJsValue, isValueOfType,
} from './leaf';
export type { SmallIntType, BigIntType, IntType } from './leaf';
export {
  parseValue, lookupEnum, parseSmallInt, parseBigInt, parseHex, parseBool, parseIfid, parseEther,
} from './parse';
export { printValue, printValueUnquoted, hexText, enumName } from './print';
export type { PrintOptions } from './print';
export { escapeControls, escapeString, quoteString, unescapeString } from './text';
export { encodeValue, decodeValue } from './wire';
export {
  compareValues, valuesEqual, compareOp, isTruthy, castValue, toNetwork, valueLength,
} from './ops';
export type { CompareOperator } from './ops';
export { bytesToString, stringToBytes, stringByteLength, hasEscapedBytes } from './utf8';
export {
  parseIpv4, parseIpv6, ipv4FromInt, ipv4FromBytes, ipv4ToInt, ipv4Mask, ipv6ToBytes, ipv6FromBytes, maskIpv6, splitPrefix,
} from './ip';
export { parseDate, printDate, parseTimeDelta, printTimeDelta, PRECISION_SCALE } from './time';
export { parseAscendFilter, printAscendFilter } from './ascend';
