/** Worker-thread pools (see README.md). */
export { WorkerPool, WorkerPools, type TaskPool } from './pool';
export { serveTasks, type TaskAnswer, type TaskMessage } from './task';
