import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { Always } from './always';
import { AlwaysConfig } from './config';
import def from './index';
import { callCtx, makeRequest, parseModuleConfig, testDict } from '../../test/support/module-call';
import { XlatRegistry } from '../../core';
import { compileTemplate } from '../../core';

describe('always', () => {
  it('returns the configured rcode in every section', () => {
    const m = new Always(parseModuleConfig(AlwaysConfig, 'rcode = reject'), 'reject');
    const r = makeRequest('User-Name = "bob"');
    expect(m.call(r, callCtx(r))).toBe('reject');
    expect(m.call(r, callCtx(r, { name1: 'accounting', name2: 'Start' }))).toBe('reject');
  });
  it('defaults to fail and accepts v3 items', () => {
    const c = parseModuleConfig(AlwaysConfig, 'simulcount = 0\nmpp = no');
    expect(c.rcode).toBe('fail');
  });
  it('rejects unknown rcodes with a located error', () => {
    expect(() => parseModuleConfig(AlwaysConfig, 'rcode = maybe')).toThrow(/test\.conf\[2\].*rcode/);
  });
  it('binds every section', () => {
    expect(def.methods['* *']).toBe('call');
  });
  it('%<name>(rcode) changes the rcode at run time', () => {
    const m = new Always(parseModuleConfig(AlwaysConfig, 'rcode = ok'), 'db_status');
    const reg = new XlatRegistry();
    m.bootstrap({ name: 'db_status', dict: testDict(), log: undefined as never, registerXlat: (n, fn, o) => reg.register(n, fn, o) });
    const r = makeRequest('');
    expect(compileTemplate("%db_status('fail')", { dict: testDict(), xlats: reg }).expand(r)).toBe('alive');
    expect(m.call(r, callCtx(r))).toBe('fail');
    expect(compileTemplate('%db_status()', { dict: testDict(), xlats: reg }).expand(r)).toBe('fail');
    expect(compileTemplate("%db_status('alive')", { dict: testDict(), xlats: reg }).expand(r)).toBe('fail');
    expect(m.call(r, callCtx(r))).toBe('ok');
    expect(compileTemplate('%db_status()', { dict: testDict(), xlats: reg }).expand(r)).toBe('alive');
  });
});
