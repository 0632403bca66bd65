/**
 * Dictionary module: attribute definitions loaded from FreeRADIUS-format
 * dictionary files (v3 and v4 syntax). See `README.md` in this folder.
 */
export { DictAttr, valueKey } from './attr';
export { Dictionary, DictError, type VendorDef } from './dictionary';
export { defaultDictionaryPath, loadDefaultDictionary } from './default';
export { EVS_VENDOR_FORMAT } from './loader';
export { DEFAULT_VENDOR_FORMAT, Encrypt, type AttrFlags, type DictLocation, type VendorFormat } from './types';
export type { DataType, LeafType, StructuralType, TimePrecision } from '../types/data-types';
