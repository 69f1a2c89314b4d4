import { generateAuthenticationOptions, verifyAuthenticationResponse, type AuthenticationResponseJSON, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { Secret, TOTP } from 'otpauth';
import type { Clock } from '../../clock.ts';
import type { Executor } from '../../db/database.ts';
import type { Encrypter } from '../../security/encryption.ts';
import { newId } from '../../security/ids.ts';
import { sha256 } from '../../security/tokens.ts';
import { createFactorsRepo, type FactorRow } from './factors.repo.ts';
import type { FactorMethod, FactorProof, FactorUse } from './mfa.types.ts';

/** The relying party as browsers see it: the host of the public URL (never an IP address, which WebAuthn refuses) and its origin. */
export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

export function relyingPartyOf(baseUrl: string): RelyingParty {
  const url = new URL(baseUrl);
  return { id: url.hostname, name: 'Interim', origin: url.origin };
}

export const TOTP_PERIOD_S = 30;
/** One step either side: a code typed just as it rolls over still works; a reused one never does. */
const TOTP_WINDOW = 1;

export const totpOf = (secretBase32: string, label = 'Interim') =>
  new TOTP({ issuer: 'Interim', label, algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_S, secret: Secret.fromBase32(secretBase32) });

const sealedAt = (id: string) => ({ table: 'mfa_factors', column: 'totp_secret', row: id });

/** Recovery codes are typed by people: case, spaces and dashes do not matter. */
export const normaliseRecoveryCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');
export const recoveryCodeHash = (code: string) => sha256(`interim-recovery:${normaliseRecoveryCode(code)}`);

/**
 * Checking second factors, for every caller (sign-in, OIDC login, step-up, device
 * confirmation). Each check runs in the caller's transaction and spends what it uses there
 * (the TOTP step, the recovery code, the WebAuthn counter), so a proof that fails to commit
 * is not spent, and two uses of one proof cannot both commit.
 */
export function createSecondFactors(deps: { clock: Clock; encrypter: Encrypter; relyingParty: RelyingParty }) {
  const { clock, encrypter, relyingParty } = deps;

  async function verifyTotp(db: Executor, userId: string, code: string): Promise<FactorUse | null> {
    if (!/^\d{6}$/.test(code)) return null;
    const now = clock.now();
    for (const factor of await createFactorsRepo(db).listOf(userId, 'totp')) {
      const secret = encrypter.decrypt(factor.totp_secret!, sealedAt(factor.id));
      const delta = totpOf(secret).validate({ token: code, timestamp: now, window: TOTP_WINDOW });
      if (delta === null) continue;
      const step = Math.floor(now / 1000 / TOTP_PERIOD_S) + delta;
      if (await createFactorsRepo(db).spendTotpStep(factor.id, step, now)) return { userId, factorId: factor.id, method: 'totp', userVerified: false };
      return null; // this code (or a later one) was already used
    }
    return null;
  }

  async function verifyWebauthn(db: Executor, response: AuthenticationResponseJSON, expectedChallenge: string, userId: string | null): Promise<FactorUse | null> {
    const repo = createFactorsRepo(db);
    const factor = typeof response?.id === 'string' ? await repo.byCredentialId(response.id) : undefined;
    if (!factor || (userId !== null && factor.user_id !== userId)) return null;
    let verified;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge,
        expectedOrigin: relyingParty.origin,
        expectedRPID: relyingParty.id,
        credential: {
          id: factor.credential_id!,
          publicKey: Buffer.from(factor.public_key!, 'base64url'),
          counter: Number(factor.sign_count ?? 0),
          transports: factor.transports ? JSON.parse(factor.transports) : undefined,
        },
        // Signing in without a password needs the authenticator to have verified the user.
        requireUserVerification: userId === null,
      });
    } catch {
      return null; // a malformed or mismatched assertion is a failed check, not an error
    }
    if (!verified.verified) return null;
    if (!(await repo.advanceCounter(factor.id, Number(factor.sign_count ?? 0), verified.authenticationInfo.newCounter, clock.now()))) return null;
    return { userId: factor.user_id, factorId: factor.id, method: 'webauthn', userVerified: verified.authenticationInfo.userVerified };
  }

  return {
    relyingParty,

    async hasFactor(db: Executor, userId: string): Promise<boolean> {
      return createFactorsRepo(db).hasAny(userId);
    },

    /** The kinds of check this user can pass now: a recovery code is offered only beside a factor. */
    async methodsOf(db: Executor, userId: string): Promise<FactorMethod[]> {
      const kinds = new Set((await createFactorsRepo(db).listOf(userId)).map((f) => f.kind));
      const methods: FactorMethod[] = [];
      if (kinds.has('webauthn')) methods.push('webauthn');
      if (kinds.has('totp')) methods.push('totp');
      if (methods.length > 0) methods.push('recovery_code');
      return methods;
    },

    /**
     * The options for navigator.credentials.get with this challenge: the user's passkeys, or
     * (userId null, signing in without a password) any discoverable one.
     */
    async webauthnOptions(db: Executor, userId: string | null, challenge: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const mine = userId === null ? [] : await createFactorsRepo(db).listOf(userId, 'webauthn');
      return generateAuthenticationOptions({
        rpID: relyingParty.id,
        challenge: Buffer.from(challenge, 'base64url'),
        allowCredentials: mine.map((f) => ({ id: f.credential_id!, transports: f.transports ? JSON.parse(f.transports) : undefined })),
        userVerification: userId === null ? 'required' : 'preferred',
        timeout: 120_000,
      });
    },

    /**
     * Checks one proof for `userId` (or, for a WebAuthn assertion with userId null, finds the
     * user by the passkey), spending it in `db`'s transaction. Null when it does not pass.
     * `expectedChallenge` is the base64url challenge the WebAuthn options carried.
     */
    async verify(db: Executor, userId: string | null, proof: FactorProof, expectedChallenge: string | null): Promise<FactorUse | null> {
      if (proof.webauthn !== undefined) {
        if (expectedChallenge === null) return null;
        return verifyWebauthn(db, proof.webauthn as AuthenticationResponseJSON, expectedChallenge, userId);
      }
      if (userId === null) return null;
      if (proof.totp !== undefined) return verifyTotp(db, userId, proof.totp);
      if (typeof proof.recovery_code === 'string' && (await createFactorsRepo(db).spendRecoveryCode(userId, recoveryCodeHash(proof.recovery_code)))) {
        return { userId, factorId: null, method: 'recovery_code', userVerified: false };
      }
      return null;
    },

    /** Whether a passkey may sign in on its own: its user registered it for that (a discoverable passkey chosen as a second factor only may not). */
    async isPasswordless(db: Executor, factorId: string | null): Promise<boolean> {
      if (factorId === null) return false;
      const factor = await createFactorsRepo(db).byId(factorId);
      return factor?.kind === 'webauthn' && factor.passwordless === 1;
    },

    /**
     * Stores a registered passkey (enrolment verifies the registration response before calling
     * this): the credential id and public key as base64url, the authenticator's counter, its
     * transports, and whether it is discoverable (can sign in without a password).
     */
    async addWebauthn(
      db: Executor,
      userId: string,
      name: string,
      credential: { id: string; publicKey: Uint8Array; counter: number; transports?: readonly string[]; passwordless: boolean },
    ): Promise<FactorRow> {
      const row: FactorRow = {
        id: newId(clock),
        user_id: userId,
        kind: 'webauthn',
        name,
        created_at: clock.now(),
        last_used_at: null,
        credential_id: credential.id,
        public_key: Buffer.from(credential.publicKey).toString('base64url'),
        sign_count: credential.counter,
        transports: credential.transports ? JSON.stringify(credential.transports) : null,
        passwordless: credential.passwordless ? 1 : 0,
        totp_secret: null,
        totp_last_step: null,
      };
      await createFactorsRepo(db).insert(row);
      return row;
    },

    /** Stores a confirmed TOTP factor (enrolment checks the first code before calling this). */
    async addTotp(db: Executor, userId: string, name: string, secretBase32: string): Promise<FactorRow> {
      const id = newId(clock);
      const row: FactorRow = {
        id,
        user_id: userId,
        kind: 'totp',
        name,
        created_at: clock.now(),
        last_used_at: null,
        credential_id: null,
        public_key: null,
        sign_count: null,
        transports: null,
        passwordless: 0,
        totp_secret: encrypter.encrypt(secretBase32, sealedAt(id)),
        totp_last_step: null,
      };
      await createFactorsRepo(db).insert(row);
      return row;
    },
  };
}
export type SecondFactors = ReturnType<typeof createSecondFactors>;
