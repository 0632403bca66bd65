/**
 * `%time.advance(<delta>)`: FreeRADIUS's test-only expansion that moves the server's notion of time
 * forward, so timers (linelog's `buffer_delay`, `timeout` blocks) come due without the test waiting.
 * It exists only in this harness: {@link harnessXlats} gives each test server its own
 * {@link SteppableClock} and a child of the built-in functions holding `time.advance`; a daemon's
 * servers never get it.
 */
import { SteppableClock } from '../../../core/clock/steppable';
import { castBox } from '../../../core/unlang/xlat/box';
import { globalXlats, type XlatRegistry } from '../../../core/unlang/xlat/registry';

/** The clock and the functions of one harness server (`new Server({ services: { clock }, xlats })`). */
export function harnessXlats(): { clock: SteppableClock; xlats: XlatRegistry } {
  const clock = new SteppableClock();
  const xlats = globalXlats.child();
  xlats.register('time.advance', (_c, args) => {
    const seconds = Number(castBox(args[0][0], 'time_delta').value);
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`%time.advance(): cannot move time back (${seconds}s)`);
    clock.advance(seconds * 1000);
    return [];
  }, { minArgs: 1, maxArgs: 1, args: ['time_delta'] });
  return { clock, xlats };
}
