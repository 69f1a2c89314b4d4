/**
 * What the mfa module offers the others (issue 15, DESIGN "Assurance"): which second factors a
 * user has, and checking one. Sign-in (portal and OIDC), step-up and device confirmation all
 * verify through this one surface, so a factor means the same everywhere.
 */
import type { FactorKind } from '../../db/schema.ts';

export type { FactorKind };

/** How a check was passed. A recovery code counts as a second factor once, then is gone. */
export type FactorMethod = 'webauthn' | 'totp' | 'recovery_code';

/** A passed check: whose factor, which one, and whether the authenticator verified the user (PIN, biometrics). */
export interface FactorUse {
  userId: string;
  /** The factor row; null for a recovery code. */
  factorId: string | null;
  method: FactorMethod;
  /** WebAuthn's UV flag; false for TOTP and recovery codes. */
  userVerified: boolean;
}

/**
 * What a client sends to pass a check: exactly one of a WebAuthn assertion (the JSON of
 * @simplewebauthn/browser's startAuthentication), a TOTP code or a recovery code.
 */
export type FactorProof =
  | { webauthn: unknown; totp?: undefined; recovery_code?: undefined }
  | { totp: string; webauthn?: undefined; recovery_code?: undefined }
  | { recovery_code: string; webauthn?: undefined; totp?: undefined };

/**
 * RFC 8176 authentication method references: `hwk` proof of possession of a hardware-bound
 * key (a passkey), `user` the authenticator verified the user, `otp` a one-time code (TOTP or
 * a recovery code). Sign-in adds `pwd` when a password was used and `mfa` when there were two.
 */
export function amrOf(use: Pick<FactorUse, 'method' | 'userVerified'>): string[] {
  if (use.method === 'webauthn') return use.userVerified ? ['hwk', 'user'] : ['hwk'];
  return ['otp'];
}

/**
 * The authentication context classes Interim asserts in `acr` and accepts in `acr_values`,
 * weakest first: a password alone; a password and a second factor (or a passkey with user
 * verification); a passkey (phishing-resistant).
 */
export const ACR = {
  password: 'urn:interim:acr:password',
  mfa: 'urn:interim:acr:mfa',
  phishingResistant: 'urn:interim:acr:phishing-resistant',
} as const;
export type Acr = (typeof ACR)[keyof typeof ACR];
export const ACR_ORDER: readonly Acr[] = [ACR.password, ACR.mfa, ACR.phishingResistant];

/** The strongest class a sign-in reached, from its amr values. */
export function acrOf(amr: readonly string[]): Acr {
  if (amr.includes('hwk')) return ACR.phishingResistant;
  if (amr.includes('otp') || (amr.includes('user') && amr.length > 1)) return ACR.mfa;
  return ACR.password;
}
