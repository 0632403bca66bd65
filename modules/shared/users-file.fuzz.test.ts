/**
 * Fuzzing the users-file parser (shared by `files` and `attr_filter`): random and mutated valid
 * input must either parse or throw a located `ConfError` (`file[line]: message`), never any
 * other exception.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfError } from '../../core';
import { mulberry32 } from '../../test/support/prng';
import { mutateText, randomText } from '../../test/support/mutate';
import { parseUsersText } from './users-file';
import { testDict } from '../../test/support/module-call';

const RADDB = path.resolve(__dirname, '..', '..', 'raddb', 'mods-config');

const SAMPLES = [
  fs.readFileSync(path.join(RADDB, 'files', 'authorize'), 'utf8'),
  fs.readFileSync(path.join(RADDB, 'attr_filter', 'access_reject'), 'utf8'),
  'bob\tCleartext-Password := "x", NAS-IP-Address == 192.0.2.1\n\tFramed-IP-Address := 192.0.2.10,\n\tReply-Message = "Hi %{User-Name}",\n\tFall-Through = yes\n',
  'DEFAULT\tUser-Name =~ /^([a-z]+)@(.*)$/i, Framed-IP-Address < 10.0.0.0/8\n\treply.Class := 0x0102,\n\tcontrol.Auth-Type := Accept\n',
  '"with space"\tPacket-Type == Access-Request\n\tSession-Timeout += 10\n# comment\nDEFAULT Auth-Type := Reject\n',
  'DEFAULT\n\tReply-Message =* ANY,\n\tSession-Timeout <= 28800,\n\tFramed-IP-Address !* ANY\n',
];
const ALPHABET = ['Reply-Message', 'Framed-IP-Address', 'Session-Timeout', 'User-Name', 'Fall-Through', 'reply.', 'control.', '192.0.2.1', '"%{User-Name}"', 'yes', '\n\t', '\nDEFAULT '];

/** Parses `text`; returns 'ok' or 'error', throws when the error is not a located ConfError. */
function attempt(text: string, filterRules: boolean): 'ok' | 'error' {
  try {
    parseUsersText(text, '/fuzz/users', { dict: testDict(), filterRules });
    return 'ok';
  } catch (e) {
    if (!(e instanceof ConfError)) {
      throw new Error(`not a located error (${String(e)}) for input ${JSON.stringify(text)}`);
    }
    expect(e.message).toMatch(/^\/fuzz\/users\[\d+\]: \S/);
    return 'error';
  }
}

describe('users file: fuzzing', () => {
  it('the probe from the hardening issue: a bare CR and a stray byte', () => {
    expect(() => parseUsersText('\r\ufffd', '/fuzz/users', { dict: testDict() })).toThrow(/^\/fuzz\/users\[1\]: /);
  });

  it('mutated valid files give a parse or a located error', () => {
    const rnd = mulberry32(0x05e75);
    const seen = { ok: 0, error: 0 };
    for (let i = 0; i < 3000; i++) {
      const base = SAMPLES[Math.floor(rnd() * SAMPLES.length)];
      seen[attempt(mutateText(base, rnd, ALPHABET), rnd() < 0.3)]++;
    }
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    expect(seen.ok).toBeGreaterThan(100);
    expect(seen.error).toBeGreaterThan(100);
  });

  it('random bytes give a parse or a located error', () => {
    const rnd = mulberry32(0xfeed5);
    for (let i = 0; i < 2000; i++) attempt(randomText(rnd, 80), rnd() < 0.3);
  });
});
