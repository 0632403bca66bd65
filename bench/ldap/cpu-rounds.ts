/**
 * The measuring loop of the in-process LDAP CPU benches (client-cpu.ts, module-cpu.ts): `one()`
 * run `n` times with `window` calls in flight, once to warm up, then ROUNDS (3) times, printing
 * the CPU time per call (user and system) and the rate of each round.
 */

/** Runs `one` `count` times, `window` at a time. */
function windowed(one: () => Promise<void>, count: number, window: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let done = 0;
    const next = (): void => {
      if (started >= count) return;
      started++;
      one().then(() => (++done === count ? resolve() : next()), reject);
    };
    for (let w = 0; w < window; w++) next();
  });
}

/** Warms up, then prints one line of `ROUNDS` measurements (`unit`: what a call is, e.g. "search"). */
export async function cpuRounds(one: () => Promise<void>, n: number, window: number, unit: string): Promise<void> {
  await windowed(one, n, window);
  const out: string[] = [];
  for (let r = 0; r < Number(process.env.ROUNDS ?? 3); r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await windowed(one, n, window);
    const c = process.cpuUsage(c0);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    out.push(`${((c.user + c.system) / n).toFixed(2)} us/${unit} (user ${(c.user / n).toFixed(1)}, system ${(c.system / n).toFixed(1)}), ${Math.round(n / secs)}/s`);
  }
  console.log(out.join('  '));
}
