/**
 * The worker-thread side of a {@link WorkerPool}: a script calls `serveTasks(handler)` and
 * answers each `{ id, job }` with `{ id, ok: true, result }`, or `{ id, ok: false, error }` when
 * the handler threw. Outside a worker thread it does nothing, so the script can also be
 * imported for its types.
 */
import { parentPort } from 'node:worker_threads';

/** A job sent to a thread. */
export interface TaskMessage<Job> {
  readonly id: number;
  readonly job: Job;
}

/** Its answer. */
export type TaskAnswer<Result = unknown> =
  | { readonly id: number; readonly ok: true; readonly result: Result }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Answers jobs with `handler` (synchronous or async) in this worker thread. */
export function serveTasks<Job, Result>(handler: (job: Job) => Result | Promise<Result>): void {
  const port = parentPort;
  if (!port) return;
  port.on('message', (m: TaskMessage<Job>) => {
    let out: Result | Promise<Result>;
    try {
      out = handler(m.job);
    } catch (e) {
      port.postMessage({ id: m.id, ok: false, error: (e as Error)?.message ?? String(e) } satisfies TaskAnswer);
      return;
    }
    Promise.resolve(out).then(
      (result) => port.postMessage({ id: m.id, ok: true, result } satisfies TaskAnswer<Result>),
      (e: unknown) => port.postMessage({ id: m.id, ok: false, error: (e as Error)?.message ?? String(e) } satisfies TaskAnswer),
    );
  });
}
