import { describe, expect, it } from 'vitest';
import { cryptHash, cryptVerify } from './crypt';
import { md4Pure, ntHash } from './md4';
const b = (s: string) => Buffer.from(s, 'utf8');
describe('crypt', () => {
  it('vectors', () => {
    expect(cryptHash(b('Hello world!'), '$5$saltstring')).toBe('$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5');
    expect(cryptHash(b('Hello world!'), '$6$saltstring')).toBe('$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1');
    expect(cryptHash(b('Hello world!'), '$1$saltstri')).toBe('$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1');
    expect(cryptHash(b('Hello world!'), '$5$rounds=10000$saltstringsaltstring')).toBe('$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA');
    // More vectors produced with `openssl passwd` (empty and short salts, apr1, rounds, long password and salt).
    expect(cryptHash(b('pass word'), '$1$abcdefgh')).toBe('$1$abcdefgh$yTpYrEJJOuAsO2Aee15/D1');
    expect(cryptHash(b('pass word'), '$1$x')).toBe('$1$x$jfG6JYaVSfViuI0wI2HC2.');
    expect(cryptHash(b('pass word'), '$1$')).toBe('$1$$jJtdJ/Tlr.pylZQFemrPm0');
    expect(cryptHash(b('secret'), '$apr1$12345678$')).toBe('$apr1$12345678$0lqb/6VUFP8JY/s/jTrIk0');
    expect(cryptHash(b('x'), '$6$rounds=1000$ab$')).toBe('$6$rounds=1000$ab$PjG1Vkf5LHNL84dByLtuSYjVz6Hy575FC7tz8wX4DtJ2WMsZQu0/miZCNEiAa8uwa8QG5xPQJgcyUioQ0Ac/G/');
    const long = b('p'.repeat(80));
    expect(cryptHash(long, '$5$longsaltlongsaltlongsalt')).toBe('$5$longsaltlongsalt$cSKkFLOKKrnFq3LErmKDZdgh9e4aET1OdfFdrd7wMM/');
    expect(cryptHash(long, '$6$longsaltlongsaltlongsalt')).toBe('$6$longsaltlongsalt$CTHAgLvyKR6Wwtv0g/Kb6qUQuY2dAp095.NYL7oxRGcT9iEtvz5AnjjMExVP3Oy4qiXxI2zRWXLx5EVP082Cf0');
    expect(cryptVerify(b('Hello world!'), '$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1')).toBe(true);
    expect(cryptVerify(b('Hello world'), '$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1')).toBe(false);
    expect(cryptVerify(b('x'), 'abJnggxhB/yWI')).toBe(false);
    expect(cryptVerify(b('password'), 'abJnggxhB/yWI')).toBe(true);
    expect(cryptVerify(b('x'), '$y$j9T$abcdefghijklmnop$7asOTx5b6Exfl3myM6K0pLBn.I2hsEvu7G0F7NMfaO.')).toBe(undefined);
  });
  it('md4', () => {
    expect(md4Pure(b('')).toString('hex')).toBe('31d6cfe0d16ae931b73c59d7e0c089c0');
    expect(md4Pure(b('abc')).toString('hex')).toBe('a448017aaf21d8525fc10ae87aa6729d');
    expect(md4Pure(b('12345678901234567890123456789012345678901234567890123456789012345678901234567890')).toString('hex')).toBe('e33b4ddc9c38f2199c3e7b164fcc0536');
    expect(ntHash('password').toString('hex').toUpperCase()).toBe('8846F7EAEE8FB117AD06BDD830B7586C');
  });
});
