/** The clock service (see README.md). */
export { SystemClock, systemClock, type Clock, type TimerHandle } from './clock';
export { FakeClock } from './fake';
export { SteppableClock } from './steppable';
