/**
 * Registry of conformance suites: name → runner.
 *
 * A suite gets the parsed command line and returns the process
 * exit code (0 when every failure is an expected one).
 */

import { run as runCodec } from './codec/runner';
import { run as runModules } from './modules/runner';
import { run as runUnit } from './unit/runner';
import { run as runUnlang } from './unlang/runner';

/** Command-line options shared by all suites. */
export interface SuiteOptions {
  /** Directory (or single file) of test inputs. */
  dir: string;
  /** Dictionary directory (`--dict`), suite-specific meaning. */
  dict?: string;
  /** Expectations file (`--expect`); each suite has a default. */
  expect?: string;
  /** Per-file summaries and passing-file names (`-v`). */
  verbose: boolean;
  /** Remaining arguments, for suite-specific flags. */
  extra: string[];
  /** Where output goes (default: process stdout). */
  log?: (line: string) => void;
}

/** A suite entry point. Resolves to the exit code. */
export type SuiteRunner = (opts: SuiteOptions) => Promise<number>;

/** Known suites. To add one: import its `run` and add a line here. */
export const SUITES: Record<string, () => Promise<SuiteRunner>> = {
  codec: async () => runCodec,
  unlang: async () => runUnlang,
  modules: async () => runModules,
  unit: async () => runUnit,
};

/** Registers (or replaces) a suite at run time, e.g. from a test. */
export function registerSuite(name: string, load: () => Promise<SuiteRunner>): void {
  SUITES[name] = load;
}
