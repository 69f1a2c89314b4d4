import { z } from 'zod';
import type { Tx } from '../../db/database.ts';
import { instant } from '../../http/schemas.ts';
import { exactlyOneProof, factorProofIn, oneProofMessage } from '../mfa/index.ts';

/** What a step-up proof may be spent on (DESIGN "Assurance"). */
export const STEP_UP_ACTIONS = [
  'approve',
  'deny',
  'revoke',
  'break_glass',
  'bulk_decision',
  'bulk_revoke',
  'mfa_policy',
  'mfa_reset',
  'factor_remove',
  'device_confirm',
  'slack_link',
] as const;
export type StepUpAction = (typeof STEP_UP_ACTIONS)[number];

/**
 * The exact act a proof is for. `target` is what is acted on (a request id, a template id, a
 * user id, or the hash of a bulk decision's list); `stage` the approval stage of a decision.
 */
export interface StepUpBinding {
  action: StepUpAction;
  target: string;
  stage?: number | null;
}

/** A spent proof, for the audit event of the act it allowed. */
export interface StepUpUse {
  proof_id: string;
  method: string;
  verified_at: number;
}

/** What another module calls, in the transaction that commits the act (src/compose.ts wires it). */
export interface StepUpGuard {
  /**
   * Spends `proofId` for `binding` if this user verified it within `maxAgeMs`; throws 403
   * `step_up_required` (none given), `step_up_invalid` (unknown, not theirs, another act,
   * not verified, already spent) or `step_up_stale` (verified too long ago).
   */
  consume(trx: Tx, userId: string, binding: StepUpBinding, proofId: string | undefined, maxAgeMs: number): Promise<StepUpUse>;
}

export const stepUpBindingIn = z.strictObject({
  action: z.enum(STEP_UP_ACTIONS).describe('What the proof will be spent on'),
  target: z.string().min(1).max(200).describe('What is acted on: the request id, template id or user id; for a bulk act, the list hash the confirm step shows'),
  stage: z.number().int().min(0).max(100).nullable().optional().describe('The approval stage of a decision'),
});

export const stepUpVerifyIn = z.strictObject(factorProofIn).refine(exactlyOneProof, oneProofMessage);

export const stepUpStartOut = z.object({
  id: z.string(),
  challenge: z.string().describe('base64url; derived from the binding and a nonce'),
  methods: z.array(z.enum(['webauthn', 'totp', 'recovery_code'])),
  webauthn: z.record(z.string(), z.unknown()).nullable().describe('Options for @simplewebauthn/browser startAuthentication(), when the user has a passkey'),
  expires_at: instant,
});

export const stepUpVerifyOut = z.object({ id: z.string(), verified_at: instant, method: z.enum(['webauthn', 'totp', 'recovery_code']) });
