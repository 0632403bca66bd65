/** The RADIUS process state machine. See README.md. */
export type { ProcessOptions } from './types';
export type { CompiledSite, SiteConfig, SectionKey } from '../namespace';
export { DEFAULT_SITE_CONFIG } from '../namespace';
export {
  RadiusProcess, createRadiusProcess, DO_NOT_RESPOND, RECV_REPLY, AUTHENTICATE_REPLY, SEND_FAILOVER, type ProcessStats,
} from './process';
export { RADIUS_NAMESPACE, RECV_SECTIONS, SEND_SECTIONS, REQUEST_TYPES } from './namespace';
