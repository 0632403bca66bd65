/** The radius module's counters in the metrics registry, and its worker topology from the DI root. */
import 'reflect-metadata';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsRegistry, renderPrometheus, sampleValue } from '../../core';
import { makeTopology } from '../../core';
import { trunkFactory } from '../../core';
import { PacketCode } from '../../core';
import { callCtx, makeRequest, memoryLogger, parseModuleConfig, testDict } from '../../test/support/module-call';
import { RadiusConfig } from './config';
import { Radius } from './radius';
import { TestHome } from './test-home';

const dict = testDict();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

describe('radius: metrics and topology', () => {
  it('registers its counters while instantiated and divides its limits by the worker count', async () => {
    const h = await new TestHome(dict).start('udp');
    cleanups.push(() => h.stop());
    h.behave = () => ({ code: PacketCode.AccessAccept });
    const cfg = parseModuleConfig(RadiusConfig,
      `type = Access-Request\nmax_outstanding = 100\nudp {\n ipaddr = 127.0.0.1\n port = ${h.port}\n secret = testing123\n}\npool {\n max = 8\n}`, 'radius home');
    const metrics = new MetricsRegistry();
    const log = memoryLogger();
    const inst = new Radius(cfg, log, 'home', trunkFactory, metrics, makeTopology('worker', 1, 4));
    inst.instantiate({ name: 'home', dict, log });
    cleanups.push(() => inst.detach());
    expect(inst.stats().limits).toEqual({ max_outstanding: 25, max_connections: 2, workers: 4 });
    const r = makeRequest('User-Name = "bob", User-Password = "x"', { code: PacketCode.AccessRequest });
    expect(await inst.send(r, callCtx(r))).toBe('ok');
    const snap = metrics.snapshot();
    expect(sampleValue(snap, 'tsradius_home_server_sent_total', { instance: 'home' })).toBe(1);
    expect(sampleValue(snap, 'tsradius_home_server_answered_total', { instance: 'home' })).toBe(1);
    expect(sampleValue(snap, 'tsradius_home_server_connections', { instance: 'home', state: 'active' })).toBe(1);
    expect(sampleValue(snap, 'tsradius_home_server_up', { instance: 'home' })).toBe(1);
    // The trunk's counters and the instance's own are registered too (zero so far).
    for (const k of ['fail_fast', 'backlogged', 'backlog_failed', 'limit_outstanding', 'protocol_error']) {
      expect(snap.families.some((f) => f.name === `tsradius_home_server_${k}_total`)).toBe(true);
    }
    expect(renderPrometheus(snap)).toMatch(/^tsradius_home_server_sent_total\{instance="home"\} 1$/m);
    inst.detach();
    expect(metrics.snapshot().families).toEqual([]);
  });
});
