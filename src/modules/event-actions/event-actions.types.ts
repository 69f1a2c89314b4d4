import { z } from 'zod';
import { pageQuery } from '../../http/pagination.ts';
import { email, instant, name, searchText, toIso } from '../../http/schemas.ts';
import { REQUEST_EVENT_TYPES, type RequestEventName } from '../event-payload/event-payload.types.ts';
import { isWebhookSecret } from './webhook-signature.ts';

export const ACTION_KINDS = ['webhook', 'slack', 'slack_app', 'email', 'script'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];
/** The kinds a break-glass alert goes to whatever event types they list (webhooks and Slack, webhook or app). */
export const LOUD_ACTION_KINDS: readonly ActionKind[] = ['webhook', 'slack', 'slack_app'];
export const EMAIL_RECIPIENTS = ['requester', 'approvers', 'addresses'] as const;
export type EmailRecipients = (typeof EMAIL_RECIPIENTS)[number];
export const MAX_ADDRESSES = 20;

// What each kind stores in event_actions.config: never a secret.
export interface WebhookConfig {
  url: string;
}
/** The Slack URL itself is a secret (whoever has it may post): only its host is kept in the clear. */
export interface SlackConfig {
  webhook_url_host: string;
}
/** The Slack app (docs/slack.md) posts with its bot token into this channel, with Approve and Deny buttons. */
export interface SlackAppConfig {
  channel: string;
}
export interface EmailConfig {
  recipients: EmailRecipients;
  /** Only with recipients = 'addresses'. */
  addresses?: string[];
}
export interface ScriptConfig {
  script_id: string;
}

export type ActionTarget =
  | { kind: 'webhook'; config: WebhookConfig }
  | { kind: 'slack'; config: SlackConfig }
  | { kind: 'slack_app'; config: SlackAppConfig }
  | { kind: 'email'; config: EmailConfig }
  | { kind: 'script'; config: ScriptConfig };

/** A stored event action with its JSON parsed. `secret_encrypted` holds the webhook signing secret or the Slack URL. */
export type EventAction = {
  id: string;
  name: string;
  enabled: boolean;
  event_types: RequestEventName[];
  /** Null: requests from every template. */
  template_id: string | null;
  secret_encrypted: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
} & ActionTarget;

/** Sorted in the order of REQUEST_EVENT_TYPES, so equal rules read the same. */
export const canonicalEventTypes = (types: readonly RequestEventName[]) => REQUEST_EVENT_TYPES.filter((t) => types.includes(t));

const eventTypes = z
  .array(z.enum(REQUEST_EVENT_TYPES))
  .min(1, 'must name at least one event type')
  .refine((types) => new Set(types).size === types.length, 'must not name the same event type twice')
  .describe('the lifecycle events that fire the action');

const outboundUrl = z.string().trim().min(1).max(2048);

export const webhookConfigIn = z.strictObject({
  url: outboundUrl.describe('where to POST the signed JSON: an absolute https URL'),
  signing_secret: z
    .string()
    .refine(isWebhookSecret, 'must be whsec_ followed by 24 to 64 bytes in base64')
    .optional()
    .describe('your own whsec_ signing secret; one is generated when left out'),
});
/** On PATCH the secret changes only through rotate-secret, so it is shown exactly once. */
export const webhookConfigPatch = webhookConfigIn.omit({ signing_secret: true });

export const slackConfigIn = z.strictObject({
  webhook_url: outboundUrl.describe('the Slack incoming-webhook URL. It is a secret: stored encrypted and never shown again'),
});

export const slackAppConfigIn = z.strictObject({
  channel: z
    .string()
    .trim()
    .regex(/^[CG][A-Z0-9]{2,30}$/, 'must be a Slack channel id such as C0123456789 (channel details, bottom of the About tab)')
    .describe('the Slack channel id the Slack app posts into, with Approve and Deny buttons; the app must be a member of it'),
});

export const emailConfigIn = z
  .strictObject({
    recipients: z.enum(EMAIL_RECIPIENTS).describe("'requester', 'approvers' (those the request notified) or the fixed 'addresses'"),
    addresses: z.array(email).min(1).max(MAX_ADDRESSES).optional().describe("with recipients = 'addresses': 1 to 20 email addresses"),
  })
  .superRefine((c, ctx) => {
    if (c.recipients === 'addresses' && !c.addresses) ctx.addIssue({ code: 'custom', path: ['addresses'], message: "required when recipients is 'addresses'" });
    if (c.recipients !== 'addresses' && c.addresses) ctx.addIssue({ code: 'custom', path: ['addresses'], message: "only allowed when recipients is 'addresses'" });
    if (c.addresses && new Set(c.addresses).size !== c.addresses.length) ctx.addIssue({ code: 'custom', path: ['addresses'], message: 'must not list the same address twice' });
  });

export const scriptConfigIn = z.strictObject({ script_id: z.uuid().describe('a script from /api/v1/scripts, run in the sandbox') });

/** The config schema of each kind on PATCH, where config is replaced whole. */
export const configPatchSchemas = { webhook: webhookConfigPatch, slack: slackConfigIn, slack_app: slackAppConfigIn, email: emailConfigIn, script: scriptConfigIn } as const;

const ruleFields = {
  name,
  enabled: z.boolean().default(true),
  event_types: eventTypes,
  template_id: z.uuid().nullable().default(null).describe('only requests from this template; null for every template'),
};

export const createEventActionIn = z.discriminatedUnion('kind', [
  z.strictObject({ ...ruleFields, kind: z.literal('webhook'), config: webhookConfigIn }),
  z.strictObject({ ...ruleFields, kind: z.literal('slack'), config: slackConfigIn }),
  z.strictObject({ ...ruleFields, kind: z.literal('slack_app'), config: slackAppConfigIn }),
  z.strictObject({ ...ruleFields, kind: z.literal('email'), config: emailConfigIn }),
  z.strictObject({ ...ruleFields, kind: z.literal('script'), config: scriptConfigIn }),
]);
export type CreateEventActionIn = z.infer<typeof createEventActionIn>;

export const updateEventActionIn = z.strictObject({
  name: name.optional(),
  enabled: z.boolean().optional(),
  event_types: eventTypes.optional(),
  template_id: z.uuid().nullable().optional(),
  kind: z.enum(ACTION_KINDS).optional().describe('cannot change; if given it must be the current kind'),
  config: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("the whole config of the action's kind, as on create, replacing the current one (a webhook's signing secret changes only through rotate-secret)"),
});
export type UpdateEventActionIn = z.infer<typeof updateEventActionIn>;

export const rotateSecretIn = z.strictObject({
  signing_secret: webhookConfigIn.shape.signing_secret,
});
/** The body may be left out: a new secret is generated. */
export const rotateSecretBody = rotateSecretIn.nullish();

export const listEventActionsQuery = pageQuery.extend({
  q: searchText.optional().describe('part of the name or of an event type it fires on, any case'),
  kind: z.enum(ACTION_KINDS).optional(),
  template_id: z.uuid().optional(),
  enabled: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});
export type ListEventActionsQuery = z.infer<typeof listEventActionsQuery>;

const ruleOut = {
  id: z.uuid(),
  name: z.string(),
  enabled: z.boolean(),
  event_types: z.array(z.enum(REQUEST_EVENT_TYPES)),
  template_id: z.uuid().nullable(),
  created_at: instant,
  updated_at: instant,
};
const webhookOut = z.object({ ...ruleOut, kind: z.literal('webhook'), config: z.object({ url: z.string() }) });
const slackOut = z.object({
  ...ruleOut,
  kind: z.literal('slack'),
  config: z.object({ webhook_url_set: z.boolean(), webhook_url_host: z.string().describe('the host of the stored URL; the URL itself is never shown') }),
});
const slackAppOut = z.object({ ...ruleOut, kind: z.literal('slack_app'), config: z.object({ channel: z.string() }) });
const emailOut = z.object({
  ...ruleOut,
  kind: z.literal('email'),
  config: z.object({ recipients: z.enum(EMAIL_RECIPIENTS), addresses: z.array(z.string()).optional() }),
});
const scriptOut = z.object({ ...ruleOut, kind: z.literal('script'), config: z.object({ script_id: z.uuid() }) });

export const eventActionOut = z.discriminatedUnion('kind', [webhookOut, slackOut, slackAppOut, emailOut, scriptOut]);
export type EventActionOut = z.infer<typeof eventActionOut>;

const signingSecret = z.string().describe('the whsec_ signing secret: shown this once, keep it now');
export const createdEventActionOut = z.discriminatedUnion('kind', [webhookOut.extend({ signing_secret: signingSecret }), slackOut, slackAppOut, emailOut, scriptOut]);
export const rotatedSecretOut = webhookOut.extend({ signing_secret: signingSecret });

export function toEventActionOut(a: EventAction): EventActionOut {
  const rule = {
    id: a.id,
    name: a.name,
    enabled: a.enabled,
    event_types: a.event_types,
    template_id: a.template_id,
    created_at: toIso(a.created_at),
    updated_at: toIso(a.updated_at),
  };
  switch (a.kind) {
    case 'webhook':
      return { ...rule, kind: a.kind, config: { url: a.config.url } };
    case 'slack':
      return { ...rule, kind: a.kind, config: { webhook_url_set: a.secret_encrypted !== null, webhook_url_host: a.config.webhook_url_host } };
    case 'slack_app':
      return { ...rule, kind: a.kind, config: { channel: a.config.channel } };
    case 'email':
      return { ...rule, kind: a.kind, config: { recipients: a.config.recipients, ...(a.config.addresses ? { addresses: a.config.addresses } : {}) } };
    case 'script':
      return { ...rule, kind: a.kind, config: { script_id: a.config.script_id } };
  }
}

/** What the audit log records of an action: the rule and its public config, never a secret. */
export function auditFields(a: EventAction) {
  return { name: a.name, enabled: a.enabled, event_types: a.event_types, template_id: a.template_id, kind: a.kind, config: a.config };
}
