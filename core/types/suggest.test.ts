import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, suggest } from './suggest';

describe('suggest', () => {
  it('finds the closest candidate within a small distance, case-insensitively', () => {
    expect(editDistance('papp', 'pap')).toBe(1);
    expect(editDistance('swich', 'switch')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(suggest('papp', ['chap', 'pap', 'files'])).toBe('pap');
    expect(suggest('FILES', ['files'])).toBe('files');
    expect(suggest('ldap', ['files', 'detail'])).toBeUndefined();
    expect(suggest('ab', ['abcd'])).toBeUndefined();
    expect(suggest('', ['a'])).toBeUndefined();
  });
  it('didYouMean renders the hint or nothing', () => {
    expect(didYouMean('rejet', ['reject', 'ok'])).toBe('; did you mean "reject"?');
    expect(didYouMean('zzz', ['reject'])).toBe('');
  });
});
