/**
 * The public surface of tsradius for module and app authors (package.json `exports` ".").
 *
 * Built-in modules (`modules/**`) and `examples/**` import core only from here; a test
 * (test/structure.test.ts) fails on a deep import into core internals. Anything a module needs
 * and does not find here is added here, not imported from its folder. Tests inside `modules/`
 * may also use the helpers of `test/support/`.
 *
 * Grouped as a module sees the server: the module contract, configuration, dictionary and
 * values, pairs and the request, policy (templates, xlats), process-wide services (trunk,
 * metrics, clock, worker pools, topology), logging, the RADIUS codec, apps, and the pieces a
 * module's own tests load it with (loader, root container, server).
 */
import 'reflect-metadata';

// ── Module contract: defineModule, tokens, call contract (Rcode, CallContext, …), inject/injectable.
export * from './module/index';
export { loadModules, type ModuleSet, type LoadModulesOptions } from './module/loader';
export { type Rcode, RCODES } from './request/rcode';

// ── Configuration: schema DSL (`conf`), parser, located errors.
export type { ConfItem, ConfLoc, ConfPair, ConfSection } from './config/ast';
export { findSection, formatLoc, unescapeValue } from './config/ast';
export { ConfError, type ConfErrorCode } from './config/errors';
export { parseConfigString, parseConfigFile } from './config/parser';
export { conf, parseDuration, parseSection, sectionOf, describeSchema, suggest, didYouMean, type Infer, type Fields, type SectionSchema } from './config/schema';
export type { ScalarField } from './config/schema-builders';

// ── Dictionary and values.
export { valueKey, type DictAttr } from './dict/attr';
export { Dictionary } from './dict/dictionary';
export { loadDefaultDictionary, defaultDictionaryPath } from './dict/default';
export { DictError } from './dict/errors';
export type { LeafType, Value } from './types/data-types';
export { ValueError } from './value/errors';
export { parseValue } from './value/parse';
export { printValueUnquoted } from './value/print';
export { compareOp, valuesEqual, type CompareOperator } from './value/ops';
export { ipv4ToInt, ipv6ToBytes } from './value/ip';
export { escapeControls, escapeString } from './value/text';
export { bytesToString, stringToBytes } from './value/utf8';

// ── Pairs and the request: one family of pair helpers (core/pair/list.ts, core/pair/values.ts).
export { Pair } from './pair/pair';
export { findPair, findAllPairs, findPairDeep, findByPath, deletePairs, removePair, appendPair, findOrAppendStructural, copyPair, countLeaves, forEachLeaf } from './pair/list';
export { containerOf, getPair, getValue, setValue, addValue, failureMessage } from './pair/values';
export { parsePairList, parsePairListWithOps, printPairList, printPairLines, type PairWithOp } from './pair/text';
export { REDACTED, isSecretAttr, redactValue, hasSecret, printPairRedacted, printPairListRedacted } from './pair/redact';
export { Request, type ListName } from './request/request';
export { ClientDirectory, normaliseAddress, type Client } from './listen/clients';

// ── Policy: templates (per-call expansions), xlat values and registry, the unlang compiler entry.
export { compileTemplate, bareAttrTemplate, bareAttrRef, ctime, type Template } from './unlang/tmpl';
export { box, boxAsText, BoxError, type Box, type SafeFor, type ValueEscape } from './unlang/xlat/box';
export { XlatRegistry, globalXlats, registerXlat, type XlatFunc, type XlatContext, type XlatOptions } from './unlang/xlat/registry';
export { CompileError } from './unlang/compile/errors';
export { makeRegex } from './unlang/compile/expr-parser';
export { compileUnlang, runSection, Compiler, type CompileOptions, type CompiledSection } from './unlang/index';
export { md4, md4Pure, ntHash } from './unlang/xlat/md4';

// ── Process-wide services (DI root tokens: TRUNKS, METRICS, CLOCK, WORKER_POOLS, TOPOLOGY).
export {
  Trunk, TrunkConnection, trunkFactory,
  type ConnState, type ConnEvents, type Waiter, type HealthCheck, type DeadlineTarget, type DeadlineTicket, type TrunkHooks, type TrunkOptions, type TrunkCounters, type TrunkFactory,
} from './trunk/trunk';
export * from './metrics/index';
export { SystemClock, systemClock, FakeClock, SteppableClock, type Clock, type TimerHandle } from './clock/index';
export { runProgram, splitCommand, type ExecResult, type RunOptions } from './exec/program';
export { WorkerPool, WorkerPools, serveTasks, type TaskPool, type TaskAnswer, type TaskMessage } from './workers/index';
export * from './dac/index';
export { SINGLE_PROCESS, makeTopology, type Topology, type ProcessRole } from './topology/index';
export { RadiusFramer } from './client/framer';
export { IdTable } from './client/ids';
export { verifyReply, answers, maCovered, type MaPolicy, type ReplyDrop } from './client/reply';
export { RequestEncoder, requestAuthenticator, NO_AUTH } from './client/request';
export { RetryTimer, type RetrySettings, type RetryEvent } from './client/retry';
// Batched UDP sockets (the native addon, or node:dgram), and the send queue for one `sendmmsg` per batch.
export { openUdp, udpBackend, SendQueue, type BatchUdpSocket, type UdpOptions } from './native/udp';

// ── Logging.
export type { Logger } from './log/logger';
export { RateLimitedLog, type RateLimitOptions } from './log/rate-limit';
export { nullLogger, MemoryLogger } from './log/memory';

// ── The RADIUS codec.
export * from './protocol/radius/index';
export { randomBytes } from './protocol/radius/crypto';

// ── Apps (long-lived services beside the listeners) and the server that hosts modules and apps.
export {
  defineApp, AppRegistry, parseApps,
  type AppContext, type AppDefinition, type AppInstance, type AppHost, type AppSessionInfo, type AppSessions, type AppSpec, type AppValidateContext, type ClientSummary, type Health, type InjectRequest, type ServerHealth,
} from './server/app';
export { BUILTIN_APPS } from './server/apps/index';
export { Server, type ServerOptions } from './server/server';
// Namespaces module folders contribute (`server NAME { namespace = … }`), handed to the daemon by the composition root.
export { defineNamespace, NamespaceRegistry, type Namespace, type SiteProcess, type CompiledSite, type InjectInput, type InjectReply } from './process/namespace';
export { defaultNamespaces } from './process/default';

// ── Keep last. This module's exports object gets its properties one by one (re-exports become getters on
// properties first set to undefined), so V8 turns it into a hash table ("dictionary mode"). Code that
// imports from here reads every `core.X` per call (TypeScript keeps imports live), and on a hash table
// each read is an inline-cache miss plus a getter call: about 6 % of the pppoe_dpdk control plane's CPU.
// V8 makes an object fast again when it serves as a prototype and a lookup goes through it; the reads
// below (more than the calls V8 waits for before it keeps inline-cache feedback) do that once, at load.
// (Only where this file runs as CommonJS, the build; the test runner loads it as an ES module.)
if (typeof exports === 'object' && exports !== null) {
  const Proto = function (this: object): void { /* a constructor with this module as its prototype */ } as unknown as new () => object;
  Proto.prototype = exports;
  const child = new Proto() as Record<string, unknown>;
  const read = (): unknown => child.Server;
  for (let i = 0; i < 64; i++) read();
}
