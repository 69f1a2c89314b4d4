/** The API's second-factor shapes (docs/mfa.md): enrolment, sign-in's second step, the admin policy. */

export type FactorKind = 'webauthn' | 'totp';
export type FactorMethod = 'webauthn' | 'totp' | 'recovery_code';

export interface Factor {
  id: string;
  kind: FactorKind;
  name: string;
  created_at: string;
  last_used_at: string | null;
  /** A passkey that may sign in without a password. */
  passwordless: boolean;
}

export interface TotpStart {
  secret: string;
  otpauth_uri: string;
  expires_at: string;
}

/** POST /session's answer when a second factor must follow the password. */
export interface SecondFactorRequired {
  second_factor_required: true;
  pending: string;
  methods: FactorMethod[];
  /** Options for startAuthentication() when the user has a passkey. */
  webauthn: Record<string, unknown> | null;
  expires_at: string;
}

export interface PasskeyOptions {
  challenge_id: string;
  webauthn: Record<string, unknown>;
  expires_at: string;
}

export type MfaPolicy = 'off' | 'everyone' | 'admins_and_approvers';

/** A started step-up check (POST /step-up). */
export interface StepUpStart {
  id: string;
  methods: FactorMethod[];
  webauthn: Record<string, unknown> | null;
  expires_at: string;
}
