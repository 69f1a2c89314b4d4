import { randomBytes } from 'node:crypto';
import { generateRegistrationOptions, verifyRegistrationResponse, type RegistrationResponseJSON } from '@simplewebauthn/server';
import { Secret } from 'otpauth';
import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/locks.ts';
import type { Actor } from '../../http/actor.ts';
import { assertThat, conflict, invalidField, notFound, unauthenticated } from '../../http/errors.ts';
import type { Encrypter } from '../../security/encryption.ts';
import { newId } from '../../security/ids.ts';
import { createUsersRepo, lockUser } from '../users/users.repo.ts';
import { createFactorsRepo, type FactorRow } from './factors.repo.ts';
import { recoveryCodeHash, totpOf, TOTP_PERIOD_S, type RelyingParty, type SecondFactors } from './factors.service.ts';
import { createManageRepo } from './manage.repo.ts';
import { createPendingRepo } from './pending.repo.ts';
import type { EnrolmentDue } from './policy.ts';
import { newRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes.ts';
import { FACTOR_CHANGE_STEP_UP_MS, type StepUpConsumer } from './step-up.types.ts';

const REGISTRATION_TTL_MS = 5 * 60_000;
const TOTP_ENROLMENT_TTL_MS = 10 * 60_000;

const registrationId = (userId: string) => `webauthn_registration:${userId}`;
const totpEnrolmentId = (userId: string) => `totp_enrolment:${userId}`;
const pendingSecretAt = (id: string) => ({ table: 'mfa_pending', column: 'secret', row: id });

export interface FactorOut {
  id: string;
  kind: 'webauthn' | 'totp';
  name: string;
  created_at: number;
  last_used_at: number | null;
  passwordless: boolean;
}

const toFactorOut = (f: Pick<FactorRow, 'id' | 'kind' | 'name' | 'created_at' | 'last_used_at' | 'passwordless'>): FactorOut => ({
  id: f.id,
  kind: f.kind,
  name: f.name,
  created_at: Number(f.created_at),
  last_used_at: f.last_used_at === null ? null : Number(f.last_used_at),
  passwordless: f.passwordless === 1,
});

/**
 * A user's own factors: enrolling passkeys and TOTP authenticators, naming and removing
 * them, and recovery codes. Only ever the caller's own account; every change is audited
 * (mfa.*), and the first factor lifts the policy's "enrol first" restriction at once.
 */
export function createEnrolmentService(
  core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>,
  deps: { encrypter: Encrypter; relyingParty: RelyingParty; secondFactors: SecondFactors; due: EnrolmentDue; stepUp: StepUpConsumer },
) {
  const { db, dialect, clock, audit } = core;
  const { encrypter, relyingParty, due } = deps;

  async function me(actor: Actor) {
    const user = await createUsersRepo(db).findById(actor.userId);
    assertThat(user, unauthenticated());
    return user;
  }

  /** After a factor was added or removed: the policy's restriction follows, and the event says whether it was the first or the last. */
  async function factorsChanged(trx: Tx, actor: Actor, action: string, data: Record<string, unknown>) {
    const remaining = await createManageRepo(trx).countFactors(actor.userId);
    if (remaining === 0) await createManageRepo(trx).deleteRecoveryCodes(actor.userId);
    await due.refreshUser(trx, actor.userId, clock.now());
    await audit.append(trx, { actor, action, targetType: 'user', targetId: actor.userId, data: { ...data, factors: remaining } });
  }

  return {
    async list(actor: Actor): Promise<FactorOut[]> {
      const rows = await createFactorsRepo(db).listOf(actor.userId);
      return rows.map(toFactorOut);
    },

    /** Options for navigator.credentials.create; the challenge is kept for 5 minutes, for this user, for one use. */
    async webauthnOptions(actor: Actor) {
      const user = await me(actor);
      const mine = await createFactorsRepo(db).listOf(actor.userId, 'webauthn');
      const options = await generateRegistrationOptions({
        rpID: relyingParty.id,
        rpName: relyingParty.name,
        userName: user.email,
        userDisplayName: user.name,
        userID: new TextEncoder().encode(user.id),
        challenge: randomBytes(32),
        attestationType: 'none',
        excludeCredentials: mine.map((f) => ({ id: f.credential_id!, transports: f.transports ? JSON.parse(f.transports) : undefined })),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
        timeout: 120_000,
      });
      const id = registrationId(actor.userId);
      await createPendingRepo(db).put({ id, purpose: 'webauthn_registration', user_id: actor.userId, challenge: options.challenge, secret: null, data: null, expires_at: clock.now() + REGISTRATION_TTL_MS });
      return options;
    },

    async addWebauthn(actor: Actor, input: { name: string; response: unknown }): Promise<FactorOut> {
      return db.transaction().execute(async (trx) => {
        const now = clock.now();
        const pending = await createPendingRepo(trx).take(registrationId(actor.userId), 'webauthn_registration', now, actor.userId);
        assertThat(pending, conflict('challenge_expired', 'no passkey registration is under way (or it expired): ask for new options'));
        const response = input.response as RegistrationResponseJSON;
        let verified;
        try {
          verified = await verifyRegistrationResponse({ response, expectedChallenge: pending.challenge!, expectedOrigin: relyingParty.origin, expectedRPID: relyingParty.id, requireUserVerification: false });
        } catch (error) {
          throw invalidField('response', error instanceof Error ? error.message : 'not a valid registration');
        }
        assertThat(verified.verified, invalidField('response', 'the registration did not verify'));
        const info = verified.registrationInfo;
        // Discoverable (the browser reports credProps.rk) and user-verified: it may sign in on its own.
        const discoverable = response.clientExtensionResults?.credProps?.rk === true;
        const transports = response.response.transports;
        let row;
        try {
          row = await deps.secondFactors.addWebauthn(trx, actor.userId, input.name, {
            id: info.credential.id,
            publicKey: info.credential.publicKey,
            counter: info.credential.counter,
            transports: transports?.length ? transports : undefined,
            passwordless: discoverable && info.userVerified,
          });
        } catch (error) {
          if (isUniqueViolation(error)) throw conflict('credential_exists', 'this passkey is already registered');
          throw error;
        }
        await factorsChanged(trx, actor, 'mfa.factor_added', { factor_id: row.id, kind: 'webauthn', name: row.name, passwordless: row.passwordless === 1 });
        return toFactorOut(row);
      });
    },

    /** A new TOTP secret, kept unconfirmed for 10 minutes: it becomes a factor only when a first code checks. */
    async totpStart(actor: Actor) {
      const user = await me(actor);
      const secret = new Secret({ size: 20 }).base32;
      const id = totpEnrolmentId(actor.userId);
      const expiresAt = clock.now() + TOTP_ENROLMENT_TTL_MS;
      await createPendingRepo(db).put({ id, purpose: 'totp_enrolment', user_id: actor.userId, challenge: null, secret: encrypter.encrypt(secret, pendingSecretAt(id)), data: null, expires_at: expiresAt });
      return { secret, otpauth_uri: totpOf(secret, user.email).toString(), expires_at: expiresAt };
    },

    async totpConfirm(actor: Actor, input: { name: string; code: string }): Promise<FactorOut> {
      return db.transaction().execute(async (trx) => {
        const now = clock.now();
        const pending = await createPendingRepo(trx).take(totpEnrolmentId(actor.userId), 'totp_enrolment', now, actor.userId);
        assertThat(pending, conflict('totp_not_started', 'no TOTP enrolment is under way (or it expired): start again'));
        const secret = encrypter.decrypt(pending.secret!, pendingSecretAt(pending.id));
        const delta = totpOf(secret).validate({ token: input.code, timestamp: now, window: 1 });
        // A wrong code rolls back, so the enrolment stays open for another try.
        assertThat(delta !== null, invalidField('code', 'the code is not correct; check the clock of the device'));
        const row = await deps.secondFactors.addTotp(trx, actor.userId, input.name, secret);
        // The code that confirmed it is spent: it cannot also sign in.
        await createFactorsRepo(trx).spendTotpStep(row.id, Math.floor(now / 1000 / TOTP_PERIOD_S) + delta, now);
        await factorsChanged(trx, actor, 'mfa.factor_added', { factor_id: row.id, kind: 'totp', name: row.name });
        return { ...toFactorOut(row), last_used_at: now };
      });
    },

    async rename(actor: Actor, id: string, name: string): Promise<FactorOut> {
      return db.transaction().execute(async (trx) => {
        const before = await createManageRepo(trx).factorOf(actor.userId, id);
        assertThat(before && (await createManageRepo(trx).rename(actor.userId, id, name)), notFound('factor'));
        await audit.append(trx, { actor, action: 'mfa.factor_renamed', targetType: 'user', targetId: actor.userId, data: { factor_id: id, before: before.name, after: name } });
        return toFactorOut((await createManageRepo(trx).factorOf(actor.userId, id))!);
      });
    },

    /** Removing a factor while another remains needs a step-up (action factor_remove, target the factor): a stolen session cannot strip factors. */
    async remove(actor: Actor, id: string, stepUpProofId: string | undefined): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const manage = createManageRepo(trx);
        const factor = await manage.factorOf(actor.userId, id);
        assertThat(factor, notFound('factor'));
        let stepUp: Awaited<ReturnType<StepUpConsumer['consume']>> | undefined;
        if ((await manage.countFactors(actor.userId)) > 1) {
          stepUp = await deps.stepUp.consume(trx, actor.userId, { action: 'factor_remove', target: id }, stepUpProofId, FACTOR_CHANGE_STEP_UP_MS);
        }
        assertThat(await manage.deleteFactor(actor.userId, id), notFound('factor'));
        await factorsChanged(trx, actor, 'mfa.factor_removed', { factor_id: id, kind: factor.kind, name: factor.name, ...(stepUp ? { step_up: stepUp } : {}) });
      });
    },

    /** Ten new codes, shown once; only their hashes are kept, and they replace any earlier ones. */
    async newRecoveryCodes(actor: Actor): Promise<string[]> {
      return db.transaction().execute(async (trx) => {
        // Two regenerations at once take turns, so exactly one set of ten remains.
        await lockUser(trx, dialect, actor.userId);
        const manage = createManageRepo(trx);
        assertThat((await manage.countFactors(actor.userId)) > 0, conflict('no_factor', 'enrol a passkey or an authenticator app first'));
        const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
        const replaced = await manage.deleteRecoveryCodes(actor.userId);
        const now = clock.now();
        await manage.insertRecoveryCodes(codes.map((code) => ({ id: newId(clock), user_id: actor.userId, code_hash: recoveryCodeHash(code), created_at: now })));
        await audit.append(trx, { actor, action: 'mfa.recovery_codes_generated', targetType: 'user', targetId: actor.userId, data: { count: codes.length, replaced } });
        return codes;
      });
    },

    recoveryCodesLeft: (actor: Actor) => createManageRepo(db).countRecoveryCodes(actor.userId),
  };
}
export type EnrolmentService = ReturnType<typeof createEnrolmentService>;
