/**
 * The one explicit list of built-in modules (the role of CoreDNS `plugin.cfg`). A module is
 * a definition value exported by `modules/<name>/index.ts`; nothing registers itself by
 * being imported, and no folder is scanned. The order here means nothing: execution order
 * comes from site policy.
 *
 * To add a module: create `modules/<name>/` (see docs/writing-a-module.md) and add one
 * import and one list entry below.
 */
import 'reflect-metadata';
import type { ModuleDefinition } from '../core/module/define';
import always from './always';
import attr_filter from './attr_filter';
import chap from './chap';
import delay from './delay';
import detail from './detail';
import exec from './exec';
import files from './files';
import linelog from './linelog';
import pap from './pap';
import radius from './radius';

/** Every built-in module definition. */
export const BUILTIN_MODULES: readonly ModuleDefinition<any, any>[] = Object.freeze([
  always,
  attr_filter,
  chap,
  delay,
  detail,
  exec,
  files,
  linelog,
  pap,
  radius,
]);
