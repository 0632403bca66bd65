/**
 * The second public entry (package.json `exports` "./thread"): what a worker-thread script needs
 * (`serveTasks`, core/workers). It stays tiny on purpose: a worker thread loads it instead of the
 * whole public surface (`core/index.ts`), so a thread starts fast and loads no server code.
 */
export { serveTasks, type TaskAnswer, type TaskMessage } from './workers/task';
