import { createHash, generateKeyPair, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Core } from '../core.ts';
import type { Executor } from '../db/database.ts';
import { unexpired } from '../db/expiry.ts';
import { lockRow } from '../db/locks.ts';
import type { Encrypter, SealedAt } from '../security/encryption.ts';
import { keySetAt, parseCookieKeys, type ScheduledCookieKey, type ScheduledKey } from './key-schedule.ts';

export type SigningAlg = 'EdDSA' | 'ES256' | 'RS256';
/** EdDSA first: it is the default and the fastest to sign (DESIGN, performance budget). */
export const SIGNING_ALGS: readonly SigningAlg[] = ['EdDSA', 'ES256', 'RS256'];

export type PrivateJwk = JsonWebKey & { kid: string; alg: SigningAlg; use: 'sig' };

export interface OidcSecrets {
  /** Private signing keys; within an alg, the one that signs comes first. */
  keys: PrivateJwk[];
  /** Keygrip keys for the provider's signed cookies, newest first. */
  cookieKeys: string[];
}

export const COOKIE_KEYS_SETTING = 'oidc.cookie_keys';
export const KEYS_VERSION_SETTING = 'oidc.keys_version';
export const KEYS_LOCK_SETTING = 'oidc.bootstrap_lock';

export const signingKeyAt = (kid: string): SealedAt => ({ table: 'signing_keys', column: 'private_jwk_encrypted', row: kid });
export const settingAt = (key: string): SealedAt => ({ table: 'settings', column: 'value', row: key });

/** Every signing and cookie key not yet retired, with its schedule, and the key version they were read at. */
export interface StoredKeys {
  version: string;
  keys: ScheduledKey[];
  cookieKeys: ScheduledCookieKey[];
}

/**
 * Loads the provider's signing keys and cookie keys, creating whatever is missing on
 * first start. Both are stored encrypted with the master key, so they survive restarts
 * and every instance on one database uses the same ones. Creation happens under a lock
 * so that two instances starting together do not each make their own.
 */
export async function loadOidcKeys(core: Pick<Core, 'db' | 'dialect' | 'clock'>, encrypter: Encrypter): Promise<StoredKeys> {
  const existing = await readKeys(core, encrypter);
  if (isComplete(existing, core.clock.now())) return existing;

  await ensureLockRow(core);
  await core.db.transaction().execute(async (trx) => {
    await lockRow(trx, core.dialect, 'settings', 'key', KEYS_LOCK_SETTING);
    const now = core.clock.now();
    const held = await trx.selectFrom('signing_keys').select('alg').where(unexpired('retired_at', now)).execute();
    const haveAlgs = new Set(held.map((r) => r.alg));
    for (const alg of SIGNING_ALGS) {
      if (haveAlgs.has(alg)) continue;
      const jwk = await generateSigningKey(alg);
      await trx
        .insertInto('signing_keys')
        .values({ kid: jwk.kid, alg, private_jwk_encrypted: encrypter.encrypt(JSON.stringify(jwk), signingKeyAt(jwk.kid)), created_at: now, retired_at: null, signs_from: 0 })
        .execute();
    }
    const cookie = await trx.selectFrom('settings').select('key').where('key', '=', COOKIE_KEYS_SETTING).executeTakeFirst();
    if (!cookie) {
      const keys: ScheduledCookieKey[] = [{ key: randomBytes(32).toString('base64url'), signsFrom: 0, retiredAt: null }];
      await trx.insertInto('settings').values({ key: COOKIE_KEYS_SETTING, value: encrypter.encrypt(JSON.stringify(keys), settingAt(COOKIE_KEYS_SETTING)), updated_at: now }).execute();
    }
  });

  const created = await readKeys(core, encrypter);
  if (!isComplete(created, core.clock.now())) throw new Error('OIDC signing or cookie keys are missing after creation');
  return created;
}

export async function ensureLockRow(core: Pick<Core, 'db' | 'clock'>): Promise<void> {
  await core.db
    .insertInto('settings')
    .values({ key: KEYS_LOCK_SETTING, value: '', updated_at: core.clock.now() })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
}

/** The key version: rotation changes it, and every process reloads its keys when it sees a new one. */
export async function readKeysVersion(db: Executor): Promise<string> {
  return (await db.selectFrom('settings').select('value').where('key', '=', KEYS_VERSION_SETTING).executeTakeFirst())?.value ?? '0';
}

export async function readKeys(core: Pick<Core, 'db' | 'clock'>, encrypter: Encrypter, executor: Executor = core.db): Promise<StoredKeys> {
  const now = core.clock.now();
  const version = await readKeysVersion(executor);
  const rows = await executor
    .selectFrom('signing_keys')
    .select(['kid', 'alg', 'private_jwk_encrypted', 'created_at', 'signs_from', 'retired_at'])
    .where(unexpired('retired_at', now))
    .orderBy('created_at', 'desc')
    .orderBy('kid')
    .execute();
  const cookie = await executor.selectFrom('settings').select('value').where('key', '=', COOKIE_KEYS_SETTING).executeTakeFirst();
  try {
    const keys = rows.map((r) => ({
      jwk: JSON.parse(encrypter.decrypt(r.private_jwk_encrypted, signingKeyAt(r.kid))) as PrivateJwk,
      signsFrom: Number(r.signs_from),
      retiredAt: r.retired_at === null ? null : Number(r.retired_at),
      createdAt: Number(r.created_at),
    }));
    const cookieKeys = cookie ? parseCookieKeys(encrypter.decrypt(cookie.value, settingAt(COOKIE_KEYS_SETTING))) : [];
    return { version, keys, cookieKeys };
  } catch (cause) {
    throw new Error('cannot decrypt the stored OIDC keys: INTERIM_MASTER_KEY is not the key they were stored with', { cause });
  }
}

function isComplete(stored: StoredKeys, now: number): boolean {
  const { secrets } = keySetAt(stored.keys, stored.cookieKeys, now);
  const algs = new Set(secrets.keys.map((k) => k.alg));
  return SIGNING_ALGS.every((alg) => algs.has(alg)) && secrets.cookieKeys.length > 0;
}

function generatePair(alg: SigningAlg): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _publicKey: KeyObject, privateKey: KeyObject) => (err ? reject(err) : resolve(privateKey));
    if (alg === 'EdDSA') generateKeyPair('ed25519', undefined, done);
    else if (alg === 'ES256') generateKeyPair('ec', { namedCurve: 'P-256' }, done);
    else generateKeyPair('rsa', { modulusLength: 2048 }, done);
  });
}

export async function generateSigningKey(alg: SigningAlg): Promise<PrivateJwk> {
  const jwk = (await generatePair(alg)).export({ format: 'jwk' });
  return { ...jwk, kid: jwkThumbprint(jwk), alg, use: 'sig' };
}

/** RFC 7638 thumbprint: a kid that is stable for the key and says nothing else. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members =
    jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
