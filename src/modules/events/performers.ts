import type { Core } from '../../core.ts';
import { AppError } from '../../http/errors.ts';
import type { DeliveryChannel } from '../../db/schema.ts';
import type { OutboundPolicy, OutboundRequest, OutboundResponse } from '../../net/safe-fetch.ts';
import type { Encrypter } from '../../security/encryption.ts';
import { decryptActionSecret, findLiveActionById } from '../event-actions/event-actions.repo.ts';
import type { EventAction } from '../event-actions/event-actions.types.ts';
import { MailerError, renderEmail, renderSlackMessage, sendSlack, type Audience, type Mailer } from '../notifications/index.ts';
import type { DeliveryRow } from '../deliveries/deliveries.repo.ts';
import type { DeliveryResult, Performer } from './dispatcher.ts';
import type { TriggerRunner } from './events.types.ts';
import type { EventPayload } from '../event-payload/event-payload.types.ts';
import { isSignalPayload } from '../event-payload/signal-payload.types.ts';
import { scriptConfigFromPayload } from './script-config.ts';
import { SLACK_APP_TARGET_PREFIX, SLACK_UPDATE_TARGET } from './fanout.ts';
import { webhookHeaders } from '../event-actions/index.ts';

export interface PerformerDeps {
  core: Pick<Core, 'db' | 'clock' | 'baseUrl'>;
  encrypter: Pick<Encrypter, 'decrypt'>;
  mailer: Mailer;
  fetch: (url: string, request: OutboundRequest, policy: OutboundPolicy) => Promise<OutboundResponse>;
  outbound: OutboundPolicy;
  runScript: TriggerRunner;
  /** The Slack app's deliveries (src/modules/slack/performer.ts): posts with buttons and their updates. */
  slackApp: {
    post(actionId: string, channel: string, payload: EventPayload): Promise<DeliveryResult>;
    update(payload: EventPayload): Promise<DeliveryResult>;
  };
}

const gone = (what: string): DeliveryResult => ({ ok: false, final: true, error: `${what} no longer exists` });

/** The channels that carry request lifecycle events; the signal channels' performers come from their sinks. */
export type RequestChannel = Exclude<DeliveryChannel, 'backchannel_logout' | 'ssf'>;

/** A request channel never carries a signal: one queued there is dead-lettered, not sent. */
const forRequests =
  (perform: (delivery: DeliveryRow, payload: EventPayload) => Promise<DeliveryResult>): Performer =>
  (delivery, payload) =>
    isSignalPayload(payload) ? Promise.resolve({ ok: false, final: true, error: `the ${delivery.channel} channel cannot carry ${payload.type}` }) : perform(delivery, payload);

/** How each channel sends one delivery. Every outbound HTTP call goes through the SSRF-safe fetch. */
export function createPerformers(deps: PerformerDeps): Record<RequestChannel, Performer> {
  const { core } = deps;

  async function actionOf<K extends EventAction['kind']>(delivery: DeliveryRow, kind: K): Promise<(EventAction & { kind: K }) | undefined> {
    if (!delivery.action_id) return undefined;
    const action = await findLiveActionById(core.db, delivery.action_id);
    return action?.kind === kind ? (action as EventAction & { kind: K }) : undefined;
  }

  async function runFor(scriptId: string, payload: EventPayload): Promise<DeliveryResult> {
    try {
      const run = await deps.runScript(scriptId, { eventId: payload.id, requestId: payload.request.id, triggerEvent: payload.type.replace(/^access_request\./, ''), config: scriptConfigFromPayload(payload) });
      return run.status === 'succeeded' ? { ok: true } : { ok: false, error: `script ${run.status}${run.error ? `: ${run.error}` : ''}` };
    } catch (error) {
      // A deleted script will not come back; anything else (a busy pool) is worth a retry.
      if (error instanceof AppError && error.status === 404) return gone('the script');
      throw error;
    }
  }

  return {
    email: forRequests(async (delivery, payload) => {
      const separator = delivery.target.indexOf(':');
      const audience = delivery.target.slice(0, separator) as Audience;
      try {
        await deps.mailer.send([delivery.target.slice(separator + 1)], renderEmail(payload, audience, core.baseUrl));
      } catch (error) {
        if (error instanceof MailerError && error.permanent) return { ok: false, final: true, error: error.message };
        throw error;
      }
      return { ok: true };
    }),

    webhook: forRequests(async (delivery, payload) => {
      const action = await actionOf(delivery, 'webhook');
      const secret = action && decryptActionSecret(deps.encrypter, action);
      if (!action || !secret) return gone('the event action');
      const body = JSON.stringify(payload);
      const headers = { 'content-type': 'application/json', 'user-agent': 'Interim-Webhooks/1', ...webhookHeaders(secret, payload.id, Math.floor(core.clock.now() / 1000), body) };
      const response = await deps.fetch(action.config.url, { method: 'POST', headers, body }, deps.outbound);
      const ok = response.status >= 200 && response.status < 300;
      return { ok, responseStatus: response.status, error: ok ? undefined : `HTTP ${response.status}: ${response.body.slice(0, 500)}` };
    }),

    slack: forRequests(async (delivery, payload) => {
      if (delivery.target === SLACK_UPDATE_TARGET) return deps.slackApp.update(payload);
      if (delivery.target.startsWith(SLACK_APP_TARGET_PREFIX)) {
        const app = await actionOf(delivery, 'slack_app');
        return app ? deps.slackApp.post(app.id, app.config.channel, payload) : gone('the event action');
      }
      const action = await actionOf(delivery, 'slack');
      const url = action && decryptActionSecret(deps.encrypter, action);
      if (!action || !url) return gone('the event action');
      await sendSlack(url, renderSlackMessage(payload, core.baseUrl), async (target, body) =>
        deps.fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body }, deps.outbound),
      );
      return { ok: true };
    }),

    script: forRequests(async (delivery, payload) => {
      const action = await actionOf(delivery, 'script');
      if (!action) return gone('the event action');
      return runFor(action.config.script_id, payload);
    }),

    trigger: forRequests((delivery, payload) => runFor(delivery.target.replace(/^trigger:/, ''), payload)),
  };
}
