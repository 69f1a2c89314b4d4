import { z } from 'zod';
import { SSF_RESOURCE_SERVER } from '../resource-servers/resource-servers.types.ts';
import type { SignalType } from '../event-payload/signal-payload.types.ts';

/**
 * The Shared Signals Framework 1.0 transmitter (issue 13 §2; docs/signals.md): stream
 * configuration as SSF 1.0 §8 shapes it, narrowed by the CAEP Interoperability Profile
 * (RS256, `iss_sub` and `email` subjects, one event per SET).
 */
export const SSF_RESOURCE_SERVER_ID = SSF_RESOURCE_SERVER.id;
/** The resource indicator a receiver asks its client-credentials token for. */
export const SSF_AUDIENCE = SSF_RESOURCE_SERVER.audience;
export const SCOPE_MANAGE = 'ssf.manage';
export const SCOPE_READ = 'ssf.read';

export const PUSH_METHOD = 'urn:ietf:rfc:8935';
export const POLL_METHOD = 'urn:ietf:rfc:8936';

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';
export const EVENT_TYPES = {
  tokenClaimsChange: `${CAEP}token-claims-change`,
  sessionRevoked: `${CAEP}session-revoked`,
  credentialChange: `${CAEP}credential-change`,
  accountDisabled: `${RISC}account-disabled`,
  accountEnabled: `${RISC}account-enabled`,
  accountPurged: `${RISC}account-purged`,
} as const;
export const VERIFICATION_EVENT = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
export const EVENTS_SUPPORTED: readonly string[] = Object.values(EVENT_TYPES);

/** Which event each signal becomes (one event per SET). */
export const EVENT_OF_SIGNAL: Record<SignalType, string> = {
  'signal.claims_changed': EVENT_TYPES.tokenClaimsChange,
  'signal.sessions_ended': EVENT_TYPES.sessionRevoked,
  'signal.credential_changed': EVENT_TYPES.credentialChange,
  'signal.account_disabled': EVENT_TYPES.accountDisabled,
  'signal.account_enabled': EVENT_TYPES.accountEnabled,
  'signal.account_purged': EVENT_TYPES.accountPurged,
};

export const SUBJECT_FORMATS = ['iss_sub', 'email'] as const;
export const STREAM_STATUSES = ['enabled', 'paused', 'disabled'] as const;

const eventTypes = z
  .array(z.string().max(500))
  .max(50)
  .superRefine((list, ctx) => {
    for (const type of list) if (!EVENTS_SUPPORTED.includes(type)) ctx.addIssue({ code: 'custom', message: `unknown or unsupported event type ${type}; supported: ${EVENTS_SUPPORTED.join(', ')}` });
  });

const authorizationHeader = z
  .string()
  .min(1)
  .max(4000)
  .regex(/^[\x20-\x7E]+$/, 'must be printable ASCII (an HTTP header value)');

const pushDelivery = z.strictObject({
  method: z.literal(PUSH_METHOD),
  endpoint_url: z.string().max(2000),
  authorization_header: authorizationHeader.optional(),
});
const pollDelivery = z.strictObject({ method: z.literal(POLL_METHOD), endpoint_url: z.string().optional() });
export const deliveryIn = z.discriminatedUnion('method', [pushDelivery, pollDelivery], {
  error: `delivery.method must be ${PUSH_METHOD} (push) or ${POLL_METHOD} (poll)`,
});

const streamFields = {
  events_requested: eventTypes,
  delivery: deliveryIn,
  description: z.string().max(2000).optional(),
  /** Interim's own: the subject format of `sub_id` in this stream's SETs (iss_sub by default). */
  format: z.enum(SUBJECT_FORMATS).optional(),
};
/** Transmitter-supplied fields a receiver may echo back; ignored (SSF 1.0 §8.1.1). */
const echoed = { iss: z.unknown().optional(), aud: z.unknown().optional(), events_supported: z.unknown().optional(), events_delivered: z.unknown().optional(), min_verification_interval: z.unknown().optional() };

export const createStreamIn = z.strictObject({ ...streamFields, delivery: deliveryIn.optional(), events_requested: eventTypes.optional(), ...echoed });
export type CreateStreamIn = z.infer<typeof createStreamIn>;
export const replaceStreamIn = z.strictObject({ stream_id: z.string().min(1).max(100), ...streamFields, ...echoed });
export type ReplaceStreamIn = z.infer<typeof replaceStreamIn>;
export const updateStreamIn = z.strictObject({ stream_id: z.string().min(1).max(100), ...streamFields, delivery: deliveryIn.optional(), events_requested: eventTypes.optional(), ...echoed });
export type UpdateStreamIn = z.infer<typeof updateStreamIn>;

export const streamIdQuery = z.object({ stream_id: z.string().min(1).max(100).optional() });
export const streamIdRequired = z.object({ stream_id: z.string().min(1).max(100) });

export const statusIn = z.strictObject({ stream_id: z.string().min(1).max(100), status: z.enum(STREAM_STATUSES), reason: z.string().max(2000).optional() });
export type StatusIn = z.infer<typeof statusIn>;

export const subjectIn = z.discriminatedUnion(
  'format',
  [
    z.object({ format: z.literal('iss_sub'), iss: z.string().max(2000), sub: z.string().max(200) }),
    z.object({ format: z.literal('email'), email: z.string().max(320) }),
  ],
  { error: 'subject.format must be iss_sub or email' },
);
export type SubjectIn = z.infer<typeof subjectIn>;
export const subjectRequestIn = z.object({ stream_id: z.string().min(1).max(100), subject: subjectIn, verified: z.boolean().optional() });

export const verifyIn = z.strictObject({ stream_id: z.string().min(1).max(100), state: z.string().max(1000).optional() });

/** RFC 8936 §2.4: the poll request. */
export const pollIn = z.strictObject({
  maxEvents: z.number().int().min(0).max(1000).optional(),
  returnImmediately: z.boolean().optional(),
  ack: z.array(z.string().max(200)).max(1000).optional(),
  setErrs: z.record(z.string().max(200), z.object({ err: z.string().max(200), description: z.string().max(2000).optional() })).optional(),
});
export type PollIn = z.infer<typeof pollIn>;

export const streamOut = z.object({
  stream_id: z.string(),
  iss: z.string(),
  aud: z.string(),
  events_supported: z.array(z.string()),
  events_requested: z.array(z.string()),
  events_delivered: z.array(z.string()),
  delivery: z.object({ method: z.string(), endpoint_url: z.string().optional() }),
  description: z.string().optional(),
  format: z.enum(SUBJECT_FORMATS),
  min_verification_interval: z.number().int(),
});
export type StreamOut = z.infer<typeof streamOut>;
export const statusOut = z.object({ stream_id: z.string(), status: z.enum(STREAM_STATUSES), reason: z.string().optional() });
