import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../clock.ts';
import type { Actor } from '../../http/actor.ts';
import { AppError, conflict } from '../../http/errors.ts';
import { escapeMrkdwnWithin } from '../notifications/index.ts';
import { APPROVE_ACTION, DENY_ACTION, parseDecisionValue, withOutcome } from './blocks.ts';
import { verifySlackRequest } from './signature.ts';
import type { Block, SlackClient } from './slack-client.ts';
import type { SlackService } from './slack.service.ts';
import { blockActionsPayload, type BlockActionsPayload, type CreateDecisionLink, type NeedsStepUp, type SlackDecisions } from './slack.types.ts';

/** What the endpoint answers Slack: an HTTP status and a short body. */
export interface InteractionAnswer {
  status: 200 | 400 | 401;
  body: { ok: boolean; error?: string };
}

export interface InteractionDeps {
  clock: Clock;
  slack: SlackService;
  client: SlackClient;
  decisions: SlackDecisions;
  /** Read at each press: wired in compose (slackStepUp: the MFA policy, the template's step_up_minutes, decision links). */
  stepUp: { needsStepUp: NeedsStepUp; createDecisionLink: CreateDecisionLink };
  log: Pick<FastifyBaseLogger, 'warn'>;
}

/**
 * Slack wants an answer within 3 s. A press is handled (decision and follow-up through
 * response_url) while the answer waits at most this long; what takes longer (a blocking
 * trigger task before a grant) finishes after the answer and still follows up.
 */
const ANSWER_BUDGET_MS = 2_000;

const unverified: InteractionAnswer = { status: 401, body: { ok: false, error: 'unverified' } };

/**
 * Handles a button press from Slack (POST /api/v1/slack/interactions). The signature is
 * verified over the raw body FIRST; nothing of the body is parsed before. Then:
 * - an unlinked Slack user gets an ephemeral link to connect their Interim account;
 * - a linked user whose decision needs a step-up gets an ephemeral one-time link to the
 *   decision page (the button itself never decides then);
 * - otherwise the requests service decides, exactly as for the portal, and the message is
 *   replaced for everyone with who decided and when; a refusal is ephemeral.
 */
export function createInteractionHandler(deps: InteractionDeps) {
  const { slack, client, decisions } = deps;
  const pending = new Set<Promise<void>>();

  /** Sends a follow-up through response_url; a failure is logged, never thrown at Slack. */
  async function followUp(responseUrl: string, body: Parameters<SlackClient['respond']>[1]): Promise<void> {
    await client.respond(responseUrl, body).catch((error: unknown) => deps.log.warn({ err: error }, 'slack response_url follow-up failed'));
  }

  const ephemeral = (responseUrl: string, text: string) => followUp(responseUrl, { response_type: 'ephemeral', replace_original: false, text });

  async function act(payload: BlockActionsPayload): Promise<void> {
    const action = payload.actions.find((a) => a.action_id === APPROVE_ACTION || a.action_id === DENY_ACTION);
    const target = action?.value ? parseDecisionValue(action.value) : null;
    if (!action || !target) return; // another element (the portal link button): nothing to do
    const decision = action.action_id === APPROVE_ACTION ? 'approve' : 'deny';
    // The refinement of the payload schema makes sure one of the two is there.
    const teamId = payload.user.team_id ?? payload.team!.id;
    const user = await slack.linkedUser(teamId, payload.user.id);
    if (!user) {
      const link = await slack.issueLinkToken({ team_id: teamId, team_domain: payload.team?.domain ?? '', slack_user_id: payload.user.id, slack_user_name: payload.user.username ?? payload.user.name ?? payload.user.id });
      await ephemeral(
        payload.response_url,
        `Your Slack account is not linked to Interim yet, so this button cannot decide for you. Link it once, signed in to Interim (the link works for 10 minutes, once): <${link.url}|Link my Slack account>. Then press the button again.`,
      );
      return;
    }
    if (user.must_change_password) {
      await ephemeral(payload.response_url, 'Change the one-time password of your Interim account first (sign in to the portal); then press the button again.');
      return;
    }
    const state = await decisions.stateOf(target.requestId);
    if (!state || state.status !== 'pending' || state.current_stage !== target.stage) {
      await ephemeral(payload.response_url, state && state.status === 'pending' ? `This message is for stage ${target.stage}; the request is now at stage ${state.current_stage}. Use the newest message or the portal.` : 'This request was already decided or has ended; nothing was changed.');
      return;
    }
    if (await deps.stepUp.needsStepUp(target.requestId, user.id)) {
      const link = await deps.stepUp.createDecisionLink({ userId: user.id, requestId: target.requestId, decision, stage: target.stage });
      await ephemeral(payload.response_url, `This decision needs a fresh check of your second factor. Confirm it in Interim (a one-time link, for you only): <${link.url}|${decision === 'approve' ? 'Approve' : 'Deny'} in Interim>`);
      return;
    }
    const actor: Actor = { userId: user.id, isAdmin: user.is_admin, via: 'slack', mustChangePassword: false };
    let after: { status: string; current_stage: number };
    try {
      // The stage checked above is rechecked on the locked request, so a stage-1 button never decides stage 2.
      const sameStage = async (_trx: unknown, request: { current_stage: number }) => {
        if (request.current_stage !== target.stage) throw conflict('stage_moved_on', `this message is for stage ${target.stage}; the request is now at stage ${request.current_stage}`);
      };
      after = await decisions.decide(actor, target.requestId, decision, { team_id: teamId, slack_user_id: payload.user.id }, sameStage);
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      const reason = escapeMrkdwnWithin(error.message, 500);
      const text = error.status === 409 ? `This request was already decided or changed meanwhile: ${reason}` : `You may not ${decision} this request: ${reason}`;
      await ephemeral(payload.response_url, text);
      return;
    }
    const name = payload.user.username ?? payload.user.name ?? payload.user.id;
    const now = Math.floor(deps.clock.now() / 1000);
    if (decision === 'approve' && after.status === 'pending' && after.current_stage === target.stage) {
      // The stage needs more approvals: the buttons stay for the others.
      await ephemeral(payload.response_url, 'Your approval counted. This stage needs more approvals before the request moves on.');
      return;
    }
    const what = decision === 'deny' ? ':no_entry: *Denied*' : after.status !== 'pending' ? ':white_check_mark: *Approved*' : `:white_check_mark: *Stage ${target.stage} approved*`;
    const next = decision === 'approve' && after.status === 'pending' ? `; stage ${after.current_stage} decides next` : '';
    const line = `${what} in Slack by <@${payload.user.id}> (${escapeMrkdwnWithin(name, 100)}), <!date^${now}^{date_short_pretty} at {time}|${new Date(now * 1000).toISOString()}>${next}`;
    const original = (payload.message?.blocks ?? []) as Block[];
    await followUp(payload.response_url, { replace_original: true, text: line, blocks: withOutcome(original, line) });
  }

  return {
    async handle(input: { rawBody: string; timestamp: string | undefined; signature: string | undefined }): Promise<InteractionAnswer> {
      const secrets = await slack.secrets();
      if (!secrets) return unverified;
      const verdict = verifySlackRequest({ signingSecret: secrets.signingSecret, timestamp: input.timestamp, signature: input.signature, rawBody: input.rawBody, nowMs: deps.clock.now() });
      if (!verdict.ok) return unverified;
      // Only now is the body read: a form with one field, `payload`, holding JSON.
      let json: unknown;
      try {
        json = JSON.parse(new URLSearchParams(input.rawBody).get('payload') ?? '');
      } catch {
        return { status: 400, body: { ok: false, error: 'payload: must be the JSON interaction payload' } };
      }
      const parsed = blockActionsPayload.safeParse(json);
      if (!parsed.success) {
        const field = parsed.error.issues[0]?.path.join('.') || 'payload';
        // Other interaction types (shortcuts, views) are acknowledged and ignored: Interim sends none.
        if ((json as { type?: unknown } | null)?.type !== 'block_actions') return { status: 200, body: { ok: true } };
        return { status: 400, body: { ok: false, error: `payload.${field}: not understood` } };
      }
      const payload = parsed.data;
      const work = act(payload).catch(async (error: unknown) => {
        deps.log.warn({ err: error }, 'slack interaction failed');
        await ephemeral(payload.response_url, 'Interim could not act on this button just now; nothing was decided. Try again, or decide in the portal.');
      });
      pending.add(work);
      void work.finally(() => pending.delete(work));
      await Promise.race([work, new Promise((resolve) => setTimeout(resolve, ANSWER_BUDGET_MS).unref())]);
      return { status: 200, body: { ok: true } };
    },
    /** Waits for follow-ups still being sent (tests, shutdown). */
    settled: () => Promise.allSettled([...pending]).then(() => undefined),
  };
}
export type InteractionHandler = ReturnType<typeof createInteractionHandler>;
