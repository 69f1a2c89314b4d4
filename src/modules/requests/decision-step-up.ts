import type { Executor, Tx } from '../../db/database.ts';
import type { Actor, AuditActor } from '../../http/actor.ts';
import { AppError } from '../../http/errors.ts';
import type { StepUpBinding, StepUpGuard, StepUpUse } from '../step-up/index.ts';

/**
 * Step-up for decisions (issue 15 §1, DESIGN "Assurance"). A template's `step_up_minutes`
 * asks every approve, deny, revoke and break-glass of its requests for a second-factor
 * check made for exactly that decision (request, decision, stage) within that many minutes
 * of the commit. The setting is read from the CURRENT template inside the deciding
 * transaction, never from the request's snapshot: turning it on protects requests already
 * waiting, and turning it off cannot race a decision.
 *
 * The step-up module sits beside requests; compose.ts passes its guard and the mfa module's
 * `hasFactor` here, so requests depends on their shapes only.
 */
export interface DecisionAssurance {
  guard: StepUpGuard;
  hasFactor(db: Executor, userId: string): Promise<boolean>;
}

/** Break-glass needs step-up whenever the user has a factor (DESIGN); this is its "within N minutes" when the template sets none. */
export const BREAK_GLASS_STEP_UP_MINUTES = 5;
/** A proof sent with a decision that does not need one is still checked, within this many minutes. */
export const OFFERED_STEP_UP_MINUTES = 5;

const MINUTE = 60_000;

/** An actor who confirmed this act with a second factor: request-events.ts records `step_up` in its audit events. */
export interface SteppedUpActor extends Actor {
  stepUp: StepUpUse;
}
export const withStepUp = (actor: Actor, use: StepUpUse): SteppedUpActor => ({ ...actor, stepUp: use });

/** `step_up: {proof_id, method, verified_at}` for the audit data of an act made with one. */
export function stepUpAuditOf(actor: AuditActor): { step_up: { proof_id: string; method: string; verified_at: string } } | Record<string, never> {
  if (actor === 'system' || !('stepUp' in actor)) return {};
  const use = (actor as SteppedUpActor).stepUp;
  return { step_up: { proof_id: use.proof_id, method: use.method, verified_at: new Date(use.verified_at).toISOString() } };
}

/**
 * Spends the proof for `binding` in `trx`, or throws 403 `step_up_required` (none given; for
 * a user with no second factor the detail says to add one first), `step_up_invalid` or
 * `step_up_stale`. The error's details carry the binding a client starts the check with.
 */
export async function requireStepUp(assurance: DecisionAssurance, trx: Tx, userId: string, binding: StepUpBinding, proofId: string | undefined, minutes: number): Promise<StepUpUse> {
  if (!proofId && !(await assurance.hasFactor(trx, userId))) {
    throw new AppError(403, 'step_up_required', 'this decision needs a second-factor check, and you have none: add a passkey or an authenticator app in your account first', {
      step_up: { action: binding.action, target: binding.target, stage: binding.stage ?? null, max_age_minutes: minutes, no_second_factor: true },
    });
  }
  return assurance.guard.consume(trx, userId, binding, proofId, minutes * MINUTE);
}

/**
 * A bulk call's one proof, spent before its items (each item is its own transaction, so no
 * single one can spend it): every item still checks, in its own transaction, that the check
 * is recent enough for its template's minutes.
 */
export function assertBulkStepUpFresh(use: StepUpUse, minutes: number, now: number, binding: StepUpBinding): void {
  if (now - use.verified_at > minutes * MINUTE) {
    throw new AppError(403, 'step_up_stale', `the second-factor check is older than ${minutes} min; check again`, {
      step_up: { action: binding.action, target: binding.target, stage: binding.stage ?? null, max_age_minutes: minutes },
    });
  }
}
