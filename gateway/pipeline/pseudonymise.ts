import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';

/**
 * Keyed pseudonyms for personal data (plates, card uids, face ids, phone and tracking numbers).
 * The same raw value always maps to the same pseudonym within a site, so events still match
 * (a parcel's arrival with its pickup), but the raw value cannot be recovered without the secret.
 */
export class Pseudonymiser {
  constructor(private readonly secret: Buffer) {
    if (secret.length < 16) throw new Error('site secret must be at least 16 bytes');
  }

  pseudonym(raw: string | number | boolean): string {
    const normal = String(raw).trim().toUpperCase();
    return `p_${createHmac('sha256', this.secret).update(normal).digest('hex').slice(0, 20)}`;
  }
}

/**
 * The site secret: from the environment, else from a file generated on first start (0600).
 * Losing the file changes every pseudonym from then on; the README says to back it up.
 */
export function loadSiteSecret(opts: { envName: string; file: string; env?: NodeJS.ProcessEnv; log?: Logger }): Buffer {
  const env = opts.env ?? process.env;
  const fromEnv = env[opts.envName];
  if (fromEnv && fromEnv.length > 0) {
    if (fromEnv.length < 16) throw new Error(`${opts.envName} must be at least 16 characters`);
    return Buffer.from(fromEnv, 'utf8');
  }
  if (existsSync(opts.file)) return Buffer.from(readFileSync(opts.file, 'utf8').trim(), 'hex');
  const dir = resolve(dirname(opts.file));
  // Node's recursive mkdir never returns on a pseudo-filesystem (it spun at 96 % CPU, deaf to
  // SIGTERM, for a store path under /proc): refuse those at once, naming the file.
  if (/^\/(proc|sys|dev)(\/|$)/.test(dir)) throw new Error(`cannot keep the site secret at ${opts.file}: ${dir} is a pseudo-filesystem; choose privacy.secret_file on a disk`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  writeFileSync(opts.file, secret.toString('hex'), { mode: 0o600 });
  chmodSync(opts.file, 0o600);
  opts.log?.warn({ file: opts.file }, `${opts.envName} is not set: generated a site secret for pseudonyms; back this file up`);
  return secret;
}
