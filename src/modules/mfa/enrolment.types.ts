import { z } from 'zod';
import { instant, name } from '../../http/schemas.ts';
import { mfaPolicy } from './policy.ts';

/** A proof of a second factor, as sign-in takes it: exactly one of a passkey assertion, a TOTP code or a recovery code. */
export const factorProofIn = {
  webauthn: z.record(z.string(), z.unknown()).optional().describe('The JSON of @simplewebauthn/browser startAuthentication()'),
  totp: z.string().regex(/^\d{6}$/, 'a 6-digit code').optional().describe('A code from the authenticator app'),
  recovery_code: z.string().min(1).max(64).optional().describe('One of the recovery codes (spent by this use)'),
};
export const exactlyOneProof = (b: { webauthn?: unknown; totp?: string; recovery_code?: string }) => [b.webauthn, b.totp, b.recovery_code].filter((v) => v !== undefined).length === 1;
export const oneProofMessage = { message: 'send exactly one of webauthn, totp or recovery_code' };

const webauthnOptions = z.record(z.string(), z.unknown()).describe('Options for @simplewebauthn/browser');

export const factorOut = z.object({
  id: z.string(),
  kind: z.enum(['webauthn', 'totp']),
  name: z.string(),
  created_at: instant,
  last_used_at: instant.nullable(),
  passwordless: z.boolean().describe('A passkey that may sign in without a password (discoverable and user-verified)'),
});
export const factorListOut = z.object({ items: z.array(factorOut) });
export const factorNameIn = z.strictObject({ name: name.max(100).describe('What you call it ("YubiKey", "Phone")') });
export const addWebauthnIn = z.strictObject({ name: name.max(100), response: z.record(z.string(), z.unknown()).describe('The JSON of @simplewebauthn/browser startRegistration()') });
export const addTotpIn = z.strictObject({ name: name.max(100), code: z.string().regex(/^\d{6}$/, 'a 6-digit code').describe('The first code the app shows, to confirm it') });
export const totpStartOut = z.object({ secret: z.string().describe('base32; shown once'), otpauth_uri: z.string(), expires_at: instant });
export const recoveryCodesOut = z.object({ codes: z.array(z.string()).describe('Shown once; only their hashes are kept') });
export const recoveryCodesLeftOut = z.object({ remaining: z.number().int() });
export const stepUpQuery = z.strictObject({ step_up: z.string().max(64).optional().describe('The id of a verified step-up proof for this act (POST /api/v1/step-up)') });

export const secondFactorRequiredOut = z.object({
  second_factor_required: z.literal(true),
  pending: z.string().describe('One-time token for POST /api/v1/session/second-factor'),
  methods: z.array(z.enum(['webauthn', 'totp', 'recovery_code'])),
  webauthn: webauthnOptions.nullable(),
  expires_at: instant,
});
export const secondFactorIn = z.strictObject({ pending: z.string().min(1).max(200), ...factorProofIn }).refine(exactlyOneProof, oneProofMessage);
export const passkeyOptionsOut = z.object({ challenge_id: z.string(), webauthn: webauthnOptions, expires_at: instant });
export const passkeySignInIn = z.strictObject({ challenge_id: z.string().min(1).max(64), response: z.record(z.string(), z.unknown()).describe('The JSON of startAuthentication()') });

export const mfaPolicyOut = z.object({ policy: mfaPolicy });
export const mfaPolicyIn = z.strictObject({ policy: mfaPolicy.describe('off, everyone, or admins_and_approvers'), step_up: z.string().max(64).optional().describe('A verified step-up proof (action mfa_policy, target mfa_policy) when you have a factor') });
