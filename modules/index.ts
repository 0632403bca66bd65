/**
 * The one explicit list of built-in modules (the role of CoreDNS `plugin.cfg`). A module is
 * a definition value exported by `modules/<name>/index.ts`; nothing registers itself by
 * being imported, and no folder is scanned. The order here means nothing: execution order
 * comes from site policy.
 *
 * To add a module: create `modules/<name>/` (see docs/writing-a-module.md) and add one
 * import and one list entry below.
 *
 * A folder here may also contribute an app (`app <kind> { … }`, core/server/app.ts): list it in
 * `MODULE_APPS`. Core does not import this file (test/structure.test.ts); the daemon's
 * composition root (main/radiusd.ts) hands both lists to core/cli/radiusd.ts.
 */
import 'reflect-metadata';
import type { ModuleDefinition } from '../core';
import type { AppDefinition } from '../core';
import { pppoeDpdkApp } from './pppoe_dpdk/app';
import { detailReaderApp } from './detail_reader';
import always from './always';
import attr_filter from './attr_filter';
import chap from './chap';
import client from './client';
import dac from './dac';
import date from './date';
import delay from './delay';
import detail from './detail';
import exec from './exec';
import files from './files';
import ldap from './ldap';
import linelog from './linelog';
import mschap from './mschap';
import pap from './pap';
import radius from './radius';
import redis from './redis';
import redis_ippool from './redis_ippool';
import rediswho from './rediswho';
import sql from './sql';
import sqlcounter from './sqlcounter';
import sqlippool from './sqlippool';
import { sessionsCommand } from './sql/sessions-cli';
import { REDIS_NAMESPACE } from './redis/namespace';
import type { Namespace } from '../core';

/** Every built-in module definition. */
export const BUILTIN_MODULES: readonly ModuleDefinition<any, any>[] = Object.freeze([
  always,
  attr_filter,
  chap,
  client,
  dac,
  date,
  delay,
  detail,
  exec,
  files,
  ldap,
  linelog,
  mschap,
  pap,
  radius,
  redis,
  redis_ippool,
  rediswho,
  sql,
  sqlcounter,
  sqlippool,
]);

/** `radiusd <name> …` sub-commands contributed by module folders (main/radiusd.ts hands them to the daemon). */
export const MODULE_COMMANDS: Readonly<Record<string, (argv: readonly string[], io: { out(l: string): void; err(l: string): void }, defaultConfdir: string) => Promise<number>>> = Object.freeze({
  sessions: sessionsCommand,
});

/** Namespaces contributed by module folders (`server NAME { namespace = … }`; added to core's `radius` by the composition root). */
export const MODULE_NAMESPACES: readonly Namespace[] = Object.freeze([REDIS_NAMESPACE]);

/** Apps contributed by module folders (added to core's built-in apps by the composition root, main/radiusd.ts). */
export const MODULE_APPS: readonly AppDefinition[] = Object.freeze([
  pppoeDpdkApp as unknown as AppDefinition,
  detailReaderApp as unknown as AppDefinition,
]);
