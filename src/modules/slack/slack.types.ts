import { z } from 'zod';
import { instant, toIso } from '../../http/schemas.ts';
import type { Actor } from '../../http/actor.ts';

// ---- What the Slack module needs from others, wired in src/compose.ts ----

/** A decision through the requests service, exactly as the portal makes it (eligibility, stages, audit); `slack` names who pressed. */
export interface SlackDecisions {
  /**
   * Returns the request's state after the decision: still `pending` when an approval only counted toward a stage.
   * `within` runs in the deciding transaction on the locked request (the requests service's DecisionVia.within).
   */
  decide(
    actor: Actor,
    requestId: string,
    decision: 'approve' | 'deny',
    via: { team_id: string; slack_user_id: string },
    within: (trx: unknown, request: { current_stage: number }) => Promise<void>,
  ): Promise<{ status: string; current_stage: number }>;
  /** The request's status and current stage, or undefined when there is none. */
  stateOf(requestId: string): Promise<{ status: string; current_stage: number } | undefined>;
}

/** A one-time link to the decision page that performs the step-up and the decision (src/modules/decision-links). */
export type CreateDecisionLink = (input: { userId: string; requestId: string; decision: 'approve' | 'deny'; stage: number; comment?: string }) => Promise<{ url: string; expires_at: string }>;

/** Whether this approver's decision on this request needs a fresh second factor (the MFA policy, or the template's step-up). */
export type NeedsStepUp = (requestId: string, userId: string) => Promise<boolean>;

// ---- Settings ----

export const slackSettingsIn = z.strictObject({
  bot_token: z
    .string()
    .trim()
    .regex(/^xoxb-[A-Za-z0-9-]{10,250}$/, 'must be a bot token: xoxb- followed by letters, digits and dashes')
    .describe("the app's Bot User OAuth Token (xoxb-…), with the chat:write scope. Stored sealed, never shown again"),
  signing_secret: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{16,128}$/, 'must be the Signing Secret from Basic Information: 16 to 128 letters and digits')
    .describe("the app's Signing Secret, which verifies interactivity requests. Stored sealed, never shown again"),
});
export type SlackSettingsIn = z.infer<typeof slackSettingsIn>;

export const slackSettingsOut = z.object({
  configured: z.boolean().describe('whether a bot token and signing secret are stored (they are never returned)'),
  updated_at: instant.nullable(),
  interactivity_url: z.string().describe("the Request URL to enter under the app's Interactivity & Shortcuts"),
  api_url: z.string().describe('the Slack Web API base the server calls (INTERIM_SLACK_API_URL)'),
});

// ---- Links ----

export const linkTokenParam = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, 'must be the token from the Slack message').describe('the one-time link token from the Slack message') });

export const linkTokenOut = z.object({
  team_id: z.string(),
  team_domain: z.string().describe('the Slack workspace, as in <domain>.slack.com'),
  slack_user_id: z.string(),
  slack_user_name: z.string().describe('the Slack handle of the person who pressed the button'),
  expires_at: instant,
});

export const slackLinkOut = z.object({
  id: z.uuid(),
  team_id: z.string(),
  team_domain: z.string(),
  slack_user_id: z.string(),
  slack_user_name: z.string(),
  created_at: instant,
});
export const slackLinkListOut = z.object({ items: z.array(slackLinkOut) });

export function toSlackLinkOut(row: { id: string; team_id: string; team_domain: string; slack_user_id: string; slack_user_name: string; created_at: number }) {
  return { id: row.id, team_id: row.team_id, team_domain: row.team_domain, slack_user_id: row.slack_user_id, slack_user_name: row.slack_user_name, created_at: toIso(Number(row.created_at)) };
}

// ---- Interactions ----

const slackId = z.string().regex(/^[A-Z0-9]{2,40}$/);

/** The parts of Slack's block_actions payload Interim reads, once its signature has been verified. */
export const blockActionsPayload = z.object({
  type: z.literal('block_actions'),
  // Null for an app installed across an Enterprise Grid organisation: the user's team_id then names the workspace.
  team: z.object({ id: slackId, domain: z.string().max(100).default('') }).nullable().default(null),
  user: z.object({ id: slackId, username: z.string().max(100).optional(), name: z.string().max(100).optional(), team_id: slackId.optional() }),
  response_url: z.url().max(2000),
  actions: z.array(z.object({ action_id: z.string().max(255), value: z.string().max(2000).optional() })).min(1),
  message: z.object({ blocks: z.array(z.record(z.string(), z.unknown())).max(50).default([]) }).optional(),
}).refine((p) => p.user.team_id !== undefined || p.team !== null, { path: ['team'], message: 'a workspace is needed: team or user.team_id' });
export type BlockActionsPayload = z.infer<typeof blockActionsPayload>;
