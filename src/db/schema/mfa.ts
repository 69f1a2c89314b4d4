/**
 * Second factors (issue 15, DESIGN "Assurance"), owned by src/modules/mfa. A user's passkeys
 * (WebAuthn credentials) and TOTP authenticators are rows of one table, told apart by `kind`;
 * recovery codes are kept only as hashes and consumed by a conditional delete.
 */
export type FactorKind = 'webauthn' | 'totp';

export interface MfaFactorsTable {
  id: string;
  user_id: string;
  kind: FactorKind;
  /** What the user called it ("YubiKey", "Phone"). */
  name: string;
  created_at: number;
  last_used_at: number | null;
  /** WebAuthn: the credential id, base64url, unique across users. */
  credential_id: string | null;
  /** WebAuthn: the COSE public key, base64url. */
  public_key: string | null;
  /** WebAuthn: the authenticator's signature counter (0 when it keeps none). */
  sign_count: number | null;
  /** WebAuthn: the transports the browser reported at registration, as a JSON array. */
  transports: string | null;
  /** WebAuthn: 1 for a discoverable credential registered with user verification: it may sign in without a password. */
  passwordless: number;
  /** TOTP: the base32 secret, sealed (src/security/encryption.ts at mfa_factors.totp_secret.<id>). */
  totp_secret: string | null;
  /** TOTP: the last time step accepted. A code counts only for a later step, by a conditional update. */
  totp_last_step: number | null;
}

export interface MfaRecoveryCodesTable {
  id: string;
  user_id: string;
  /** sha256 of the normalised code (codes are random, 50 bits or more). */
  code_hash: string;
  created_at: number;
}

/** A step-up proof (src/modules/step-up, DESIGN "Assurance"). */
export interface StepUpProofsTable {
  id: string;
  user_id: string;
  /** What the proof may be spent on: `approve`, `revoke`, `mfa_reset`… (StepUpAction). */
  action: string;
  /** The thing acted on: a request id, a template id, a user id, or the hash of a bulk list. */
  target: string;
  /** The approval stage a decision is for; null where stages do not apply. */
  stage: number | null;
  /** sha256 of (user, action, target, stage): what consumption compares. */
  binding_hash: string;
  /** base64url sha256 of (binding_hash, a random nonce): the WebAuthn challenge, so an assertion signs this binding. */
  challenge: string;
  created_at: number;
  /** Until when it may be verified (a few minutes); how long it may then be spent is the caller's "within N minutes". */
  expires_at: number;
  failed_attempts: number;
  verified_at: number | null;
  method: string | null;
  factor_id: string | null;
  used_at: number | null;
}
