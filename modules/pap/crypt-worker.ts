/**
 * Worker-thread script of pap's crypt checks (run by a core `WorkerPool`, `core/workers`):
 * verifies crypt(3) hashes off the event loop. Job: `{ password: Uint8Array, stored: string }`;
 * result: true, false, or null for an unsupported scheme.
 */
import { serveTasks } from '../../core/thread';
import { cryptVerify } from './crypt';

/** One verification job. */
export interface CryptJob {
  readonly password: Uint8Array;
  readonly stored: string;
}

/** Its result: null for an unsupported scheme (or a hash that cannot be parsed). */
export type CryptResult = boolean | null;

serveTasks<CryptJob, CryptResult>((job) => {
  try {
    return cryptVerify(Buffer.from(job.password), job.stored) ?? null;
  } catch {
    return null;
  }
});
