import type { Core } from '../../core.ts';
import type { EventPayload } from '../event-payload/event-payload.types.ts';
import { askedStage, renderDecisionMessage, renderNoticeMessage, renderOutcomeMessage } from './blocks.ts';
import { SlackApiError, type SlackClient } from './slack-client.ts';
import { createSlackRepo } from './slack.repo.ts';
import type { SlackService } from './slack.service.ts';

/** A delivery's outcome, as the dispatcher records it (src/modules/events/dispatcher.ts DeliveryResult). */
export interface SlackDeliveryResult {
  ok: boolean;
  error?: string;
  final?: boolean;
}

const notConfigured: SlackDeliveryResult = { ok: false, final: true, error: 'the Slack app is not configured (PUT /api/v1/settings/slack)' };

function failed(error: unknown): SlackDeliveryResult {
  // Rate limits and Slack's own outages are retried with the outbox's backoff; a refused token or channel is final.
  if (error instanceof SlackApiError) return { ok: false, final: !error.retryable, error: error.message };
  throw error;
}

/**
 * The `slack` channel's deliveries that use the Slack app (bot token), for the events
 * module's performer: posting a request's message into an action's channel (with buttons
 * when the event asks for a decision, and then keeping its channel and ts), and updating every
 * posted message of the request after an outcome, from whatever surface it came.
 */
export function createSlackAppPerformer(deps: { core: Pick<Core, 'db' | 'baseUrl'>; slack: Pick<SlackService, 'secrets'>; client: SlackClient }) {
  const { core, client } = deps;
  return {
    async post(actionId: string, channel: string, payload: EventPayload): Promise<SlackDeliveryResult> {
      const secrets = await deps.slack.secrets();
      if (!secrets) return notConfigured;
      const stage = askedStage(payload);
      try {
        const message = stage === null ? renderNoticeMessage(payload, core.baseUrl) : renderDecisionMessage(payload, core.baseUrl, stage);
        const posted = await client.postMessage(secrets.botToken, { channel, ...message });
        if (stage !== null) await createSlackRepo(core.db).setPosted(payload.request.id, actionId, stage, posted.channel, posted.ts);
        return { ok: true };
      } catch (error) {
        return failed(error);
      }
    },

    /** After an outcome: chat.update of each posted message of the request (for a stage advance, the stages it ends). */
    async update(payload: EventPayload): Promise<SlackDeliveryResult> {
      const secrets = await deps.slack.secrets();
      if (!secrets) return notConfigured;
      const endedStage = payload.type === 'access_request.stage_approved' && typeof payload.data.stage === 'number' ? payload.data.stage : Infinity;
      const messages = (await createSlackRepo(core.db).postedMessages(payload.request.id)).filter((m) => m.stage <= endedStage);
      const message = renderOutcomeMessage(payload, core.baseUrl);
      try {
        for (const m of messages) await client.update(secrets.botToken, { channel: m.channel!, ts: m.ts!, ...message });
        return { ok: true };
      } catch (error) {
        return failed(error);
      }
    },
  };
}
export type SlackAppPerformer = ReturnType<typeof createSlackAppPerformer>;
