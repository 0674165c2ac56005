import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

/** Passwords for the embedded broker: `scrypt$N$r$p$salt$hash` (base64), made by `fcgw hash-password`. */
const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

export function hashPassword(password: string, salt: Buffer = randomBytes(16)): string {
  const hash = scryptSync(password, salt, KEYLEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * A hash no password matches, with the cost of real ones: an unknown username is checked
 * against it, so a refusal takes as long whether the name exists or not.
 */
export function dummyHash(): string {
  return `scrypt$${N}$${R}$${P}$${randomBytes(16).toString('base64')}$${randomBytes(KEYLEN).toString('base64')}`;
}

/**
 * Check a password against its hash on libuv's thread pool (scrypt costs tens of ms of CPU:
 * done synchronously, a hundred parallel logins stall every socket and timer of the gateway).
 */
export function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return Promise.resolve(false);
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64');
  const opts = { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * Number(n) * Number(r) + 1024 * 1024 };
  return new Promise((resolve) =>
    scrypt(password, Buffer.from(salt, 'base64'), expected.length, opts, (err, got) =>
      resolve(!err && got.length === expected.length && timingSafeEqual(got, expected)),
    ),
  );
}
