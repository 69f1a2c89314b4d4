import { createHash, generateKeyPair, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Core } from '../core.ts';
import { lockRow } from '../db/locks.ts';
import type { Encrypter, SealedAt } from '../security/encryption.ts';

export type SigningAlg = 'EdDSA' | 'ES256' | 'RS256';
/** EdDSA first: it is the default and the fastest to sign (DESIGN, performance budget). */
export const SIGNING_ALGS: readonly SigningAlg[] = ['EdDSA', 'ES256', 'RS256'];

export type PrivateJwk = JsonWebKey & { kid: string; alg: SigningAlg; use: 'sig' };

export interface OidcSecrets {
  /** Private signing keys, newest first within an alg so the newest signs. */
  keys: PrivateJwk[];
  /** Keygrip keys for the provider's signed cookies, newest first. */
  cookieKeys: string[];
}

const COOKIE_KEYS_SETTING = 'oidc.cookie_keys';
const BOOTSTRAP_LOCK_SETTING = 'oidc.bootstrap_lock';

export const signingKeyAt = (kid: string): SealedAt => ({ table: 'signing_keys', column: 'private_jwk_encrypted', row: kid });
export const settingAt = (key: string): SealedAt => ({ table: 'settings', column: 'value', row: key });

/**
 * Loads the provider's signing keys and cookie keys, creating whatever is missing on
 * first start. Both are stored encrypted with the master key, so they survive restarts
 * and every instance on one database uses the same ones. Creation happens under a lock
 * so that two instances starting together do not each make their own.
 */
export async function loadOidcSecrets(core: Core, encrypter: Encrypter): Promise<OidcSecrets> {
  const existing = await readSecrets(core, encrypter);
  if (isComplete(existing)) return existing;

  await core.db
    .insertInto('settings')
    .values({ key: BOOTSTRAP_LOCK_SETTING, value: '', updated_at: core.clock.now() })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  await core.db.transaction().execute(async (trx) => {
    await lockRow(trx, core.dialect, 'settings', 'key', BOOTSTRAP_LOCK_SETTING);
    const now = core.clock.now();
    const held = await trx.selectFrom('signing_keys').select('alg').where('retired_at', 'is', null).execute();
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
      const keys = [randomBytes(32).toString('base64url')];
      await trx.insertInto('settings').values({ key: COOKIE_KEYS_SETTING, value: encrypter.encrypt(JSON.stringify(keys), settingAt(COOKIE_KEYS_SETTING)), updated_at: now }).execute();
    }
  });

  const created = await readSecrets(core, encrypter);
  if (!isComplete(created)) throw new Error('OIDC signing or cookie keys are missing after creation');
  return created;
}

async function readSecrets(core: Core, encrypter: Encrypter): Promise<OidcSecrets> {
  const rows = await core.db
    .selectFrom('signing_keys')
    .select(['kid', 'alg', 'private_jwk_encrypted'])
    .where('retired_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('kid')
    .execute();
  const cookie = await core.db.selectFrom('settings').select('value').where('key', '=', COOKIE_KEYS_SETTING).executeTakeFirst();
  try {
    const keys = rows.map((r) => JSON.parse(encrypter.decrypt(r.private_jwk_encrypted, signingKeyAt(r.kid))) as PrivateJwk);
    const cookieKeys = cookie ? (JSON.parse(encrypter.decrypt(cookie.value, settingAt(COOKIE_KEYS_SETTING))) as string[]) : [];
    return { keys, cookieKeys };
  } catch (cause) {
    throw new Error('cannot decrypt the stored OIDC keys: INTERIM_MASTER_KEY is not the key they were stored with', { cause });
  }
}

function isComplete(secrets: OidcSecrets): boolean {
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
