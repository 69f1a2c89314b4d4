import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { createCore, type Core } from '../core.ts';
import { openDatabase } from '../db/database.ts';
import { lockRow } from '../db/locks.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { SYSTEM } from '../http/actor.ts';
import { createApplicationsRepo } from '../modules/applications/applications.repo.ts';
import { createEncrypter, type Encrypter } from '../security/encryption.ts';
import { createPasswordHasher } from '../security/passwords.ts';
import type { ScheduledCookieKey } from './key-schedule.ts';
import { COOKIE_KEYS_SETTING, ensureLockRow, generateSigningKey, KEYS_LOCK_SETTING, loadOidcKeys, KEYS_VERSION_SETTING, readKeys, settingAt, signingKeyAt, SIGNING_ALGS } from './keys.ts';

export interface RotationOptions {
  /** How long a new key is published before it signs: at least the longest time relying parties cache the JWKS. */
  publishDelayMs: number;
  /** How long the provider's cookies live (its session), so an old cookie key outlives every cookie it signed. */
  cookieLifetimeMs: number;
}

export interface RotationResult {
  kids: string[];
  signsFrom: number;
  /** When the keys replaced now leave the JWKS. */
  oldKeysRetireAt: number;
  oldCookieKeysRetireAt: number;
}

/** Tokens signed with a key live at most this long beyond the application TTLs (clock skew allowed for by verifiers). */
const TOLERANCE_MS = 60_000;

/**
 * `interim admin keys rotate`: a new signing key per algorithm and a new cookie key, scheduled,
 * never switched at once (DESIGN: key rotation):
 * - the new keys are published now and sign from now + publishDelay, so every relying
 *   party has fetched them before it sees a token they signed;
 * - the keys they replace keep verifying until their last token has expired: from the
 *   switch, the longest access or ID token lifetime of any application (JWT access tokens
 *   and ID tokens are what relying parties verify), or the provider session's lifetime
 *   for cookie keys; then they leave the JWKS.
 * The key version changes in the same transaction, so every process and instance
 * reloads its keys (see provider-holder.ts) long before the new ones sign.
 */
export async function rotateKeys(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>, encrypter: Encrypter, opts: RotationOptions): Promise<RotationResult> {
  await ensureLockRow(core);
  const jwks = await Promise.all(SIGNING_ALGS.map((alg) => generateSigningKey(alg)));
  return core.db.transaction().execute(async (trx) => {
    await lockRow(trx, core.dialect, 'settings', 'key', KEYS_LOCK_SETTING);
    const now = core.clock.now();
    const signsFrom = now + opts.publishDelayMs;
    const ttl = await createApplicationsRepo(trx).longestTokenTtls();
    const longestTokenMs = Math.max(3600, Number(ttl?.access ?? 0), Number(ttl?.id ?? 0)) * 1000 + TOLERANCE_MS;
    const oldKeysRetireAt = signsFrom + longestTokenMs;
    const oldCookieKeysRetireAt = signsFrom + opts.cookieLifetimeMs;

    // Keys without a successor get one now; keys already scheduled to retire keep their time.
    await trx.updateTable('signing_keys').set({ retired_at: oldKeysRetireAt }).where('retired_at', 'is', null).execute();
    for (const jwk of jwks) {
      await trx
        .insertInto('signing_keys')
        .values({ kid: jwk.kid, alg: jwk.alg, private_jwk_encrypted: encrypter.encrypt(JSON.stringify(jwk), signingKeyAt(jwk.kid)), created_at: now, signs_from: signsFrom, retired_at: null })
        .execute();
    }

    const stored = await readKeys(core, encrypter, trx);
    const cookieKeys: ScheduledCookieKey[] = [
      { key: randomBytes(32).toString('base64url'), signsFrom, retiredAt: null },
      ...stored.cookieKeys.filter((k) => k.retiredAt === null || k.retiredAt > now).map((k) => ({ ...k, retiredAt: k.retiredAt ?? oldCookieKeysRetireAt })),
    ];
    const sealed = encrypter.encrypt(JSON.stringify(cookieKeys), settingAt(COOKIE_KEYS_SETTING));
    await trx.updateTable('settings').set({ value: sealed, updated_at: now }).where('key', '=', COOKIE_KEYS_SETTING).execute();

    const version = String(Number(stored.version) + 1);
    await trx
      .insertInto('settings')
      .values({ key: KEYS_VERSION_SETTING, value: version, updated_at: now })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: version, updated_at: now }))
      .execute();
    const result = { kids: jwks.map((j) => j.kid), signsFrom, oldKeysRetireAt, oldCookieKeysRetireAt };
    await core.audit.append(trx, {
      actor: SYSTEM,
      action: 'oidc.keys_rotated',
      targetType: 'signing_keys',
      targetId: null,
      data: { kids: result.kids, signs_from: new Date(signsFrom).toISOString(), old_keys_retire_at: new Date(oldKeysRetireAt).toISOString() },
    });
    return result;
  });
}

/** `interim admin keys rotate`: rotates on the configured database and says what happens when. */
export async function rotateKeysCommand(config: Config, clock: Clock = systemClock): Promise<string> {
  const database = openDatabase(config.database);
  try {
    await migrateToLatest(database.db);
    const core = createCore(database, clock, config.baseUrl, createPasswordHasher(config.passwords));
    const encrypter = createEncrypter(config.masterKey);
    await loadOidcKeys(core, encrypter);
    const r = await rotateKeys(core, encrypter, { publishDelayMs: config.keys.publishDelayMs, cookieLifetimeMs: config.session.absoluteMs });
    const at = (ms: number) => new Date(ms).toISOString();
    return [
      `new signing keys published now: ${r.kids.join(', ')}`,
      `they sign from ${at(r.signsFrom)} (INTERIM_KEY_PUBLISH_DELAY_MINS after now); running servers pick them up within INTERIM_KEY_CHECK_SECS`,
      `the keys they replace leave the JWKS at ${at(r.oldKeysRetireAt)}; old cookie keys at ${at(r.oldCookieKeysRetireAt)}`,
      '',
    ].join('\n');
  } finally {
    await database.close();
  }
}
