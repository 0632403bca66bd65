/** The worker topology service (see README.md). */
export { SINGLE_PROCESS, makeTopology, type Topology, type ProcessRole } from './topology';
