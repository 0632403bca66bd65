/** detail's writer counters in the metrics registry while the instance is instantiated. */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MetricsRegistry, sampleValue } from '../../core';
import def from './index';
import { callCtx, loadTestModule, makeRequest } from '../../test/support/module-call';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detail-metrics-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('detail metrics', () => {
  it('reports records written under {module, instance} until detached', async () => {
    const metrics = new MetricsRegistry();
    const d = await loadTestModule(def, `filename = ${path.join(dir, 'detail')}`, { name: 'acct_log', metrics });
    for (const id of ['1', '2']) {
      const r = makeRequest(`Acct-Status-Type = Start, Acct-Session-Id = "${id}"`, { code: 4 });
      expect(await d.logRequest(r, callCtx(r, { name1: 'recv', name2: 'Accounting-Request' }))).toBe('ok');
    }
    expect(sampleValue(metrics.snapshot(), 'tsradius_append_records_total', { module: 'detail', instance: 'acct_log' })).toBe(2);
    await d.detach();
    expect(metrics.snapshot().families).toEqual([]);
  });
});
