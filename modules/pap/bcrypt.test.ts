import { describe, expect, it } from 'vitest';
import { bcryptHash, blowfishInit } from './bcrypt';

describe('bcrypt', () => {
  it('Blowfish initial state is π', () => {
    const w = blowfishInit();
    expect(w[0]).toBe(0x243f6a88);
    expect(w[1]).toBe(0x85a308d3);
    expect(w[17]).toBe(0x8979fb1b); // last P-array word
    expect(w[18]).toBe(0xd1310ba6); // first S-box word
  });
  it('vectors (produced with perl crypt(), i.e. libxcrypt)', () => {
    const b = (s: string) => Buffer.from(s);
    const s5 = '$2b$05$abcdefghijklmnopqrstuu';
    expect(bcryptHash(b('password'), s5)).toBe('$2b$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu');
    expect(bcryptHash(b('x'), s5)).toBe('$2b$05$abcdefghijklmnopqrstuuhKF09ZYWwH2zP/0fwE1X8e/Q1YNx/hO');
    expect(bcryptHash(b(''), s5)).toBe('$2b$05$abcdefghijklmnopqrstuu0oImNDIy4flhldV9YqunRgBAePKmw7m');
    expect(bcryptHash(b('Hello world!'), s5)).toBe('$2b$05$abcdefghijklmnopqrstuu7nFISH/8YdwlXD3lw69A4iBUf6fvWAW');
    expect(bcryptHash(b('password'), '$2a$04$ABCDEFGHIJKLMNOPQRSTUu')).toBe('$2a$04$ABCDEFGHIJKLMNOPQRSTUuEjC/iPF3zJUw77/vM0sdh86VCS2RP7K');
    expect(bcryptHash(b('x'.repeat(80)), '$2b$04$abcdefghijklmnopqrstuu')).toBe('$2b$04$abcdefghijklmnopqrstuubzadhGtS2zEF.gu0yd0opP6cVzb.e0i');
    expect(bcryptHash(b('password'), '$2y$06$0123456789abcdefghijkl')).toBe('$2y$06$0123456789abcdefghijkeOCenSECfUUfZOn857puzcl8SN8hsKYi');
  });
  it('rejects malformed settings', () => {
    expect(bcryptHash(Buffer.from('x'), '$2b$03$abcdefghijklmnopqrstuu')).toBeUndefined();
    expect(bcryptHash(Buffer.from('x'), '$2b$05$short')).toBeUndefined();
  });
});
