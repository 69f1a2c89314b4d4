import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createSemaphore } from './semaphore.ts';

/** OWASP's Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1 (128 MiB per hash). */
export const OWASP_SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
export const MIN_PASSWORD_LENGTH = 12;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export interface PasswordHashingSettings {
  /** scrypt cost (a power of two). INTERIM_PASSWORD_SCRYPT_N; tests lower it to stay fast. */
  scryptN: number;
  /** Hashes computed at once in this process; the rest wait their turn. */
  concurrency: number;
}

export const DEFAULT_PASSWORD_HASHING: PasswordHashingSettings = { scryptN: OWASP_SCRYPT.N, concurrency: Math.max(1, availableParallelism()) };

export interface PasswordCheck {
  ok: boolean;
  /** The stored hash was made with other parameters than today's: store a fresh one. */
  needsRehash: boolean;
}

/** Format: scrypt$N$r$p$salt$hash (base64url), so parameters can be raised later. */
function parse(stored: string): { params: ScryptParams; salt: Buffer; hash: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (![params.N, params.r, params.p].every((v) => Number.isSafeInteger(v) && v > 0)) return undefined;
  return { params, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') };
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128·N·r·p bytes; Node refuses anything above maxmem (32 MiB by default).
  const maxmem = 128 * params.N * params.r * params.p + 2 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * Hashes and checks passwords with scrypt at a configured cost. Every derivation runs
 * behind a per-process semaphore: a burst of sign-ins queues here instead of asking the
 * machine for 128 MiB per request at once. Callers reserve their sign-in attempt in the
 * throttle first, so a refused attempt never spends hashing time.
 */
export function createPasswordHasher(settings: PasswordHashingSettings = DEFAULT_PASSWORD_HASHING) {
  const current: ScryptParams = { N: settings.scryptN, r: OWASP_SCRYPT.r, p: OWASP_SCRYPT.p };
  const semaphore = createSemaphore(settings.concurrency);
  const run = (password: string, salt: Buffer, params: ScryptParams) => semaphore.run(() => derive(password, salt, params));
  // Unknown accounts are checked against this, at today's cost, so timing does not tell which accounts exist.
  const dummy = { params: current, salt: Buffer.alloc(16), hash: Buffer.alloc(KEY_LENGTH) };

  return {
    params: current,

    async hash(password: string): Promise<string> {
      const salt = randomBytes(16);
      const key = await run(password, salt, current);
      return ['scrypt', current.N, current.r, current.p, salt.toString('base64url'), key.toString('base64url')].join('$');
    },

    /** Checks a password against a stored hash; without one, spends the same work and says no. */
    async verify(password: string, stored: string | null): Promise<PasswordCheck> {
      const parsed = stored === null ? undefined : parse(stored);
      const target = parsed ?? dummy;
      const actual = await run(password, target.salt, target.params);
      const ok = parsed !== undefined && target.hash.length === actual.length && timingSafeEqual(target.hash, actual);
      const same = parsed !== undefined && parsed.params.N === current.N && parsed.params.r === current.r && parsed.params.p === current.p;
      return { ok, needsRehash: ok && !same };
    },
  };
}
export type PasswordHasher = ReturnType<typeof createPasswordHasher>;

/** A readable random password for a one-time (bootstrap or reset) password. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
