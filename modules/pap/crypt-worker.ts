/**
 * Worker-thread entry of the crypt pool: verifies crypt(3) hashes off the event loop.
 * Messages in: `{ id, password: Uint8Array, stored: string }`; out: `{ id, result }` where
 * `result` is true, false, or null for an unsupported scheme.
 */
import { parentPort } from 'node:worker_threads';
import { cryptVerify } from './crypt';

/** One verification job. */
export interface CryptJob {
  readonly id: number;
  readonly password: Uint8Array;
  readonly stored: string;
}

/** Its answer. */
export interface CryptAnswer {
  readonly id: number;
  readonly result: boolean | null;
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: CryptJob) => {
    let result: boolean | null;
    try {
      result = cryptVerify(Buffer.from(job.password), job.stored) ?? null;
    } catch {
      result = null;
    }
    port.postMessage({ id: job.id, result } satisfies CryptAnswer);
  });
}
