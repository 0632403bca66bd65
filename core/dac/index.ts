/** core/dac: the CoA/Disconnect originator (see README.md). */
export { DacClient, DAC_RETRY_DEFAULTS, type DacTarget, type DacAnswer, type DacClientOptions, type DacClientCounters } from './client';
export { DacService, VX_DYNAMIC_ATTRIBUTES, type DacResult, type CoaAttributes, type DacServiceOptions } from './service';
export {
  MemorySessions, isSessionStore,
  type DacSession, type DacOutcome, type SessionFilter, type SessionLookup, type SessionStore, type AccountingUpdate, type UpdateResult,
} from './sessions';
