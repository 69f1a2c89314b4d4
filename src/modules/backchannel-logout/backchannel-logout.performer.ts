import { SignJWT } from 'jose';
import type { Clock } from '../../clock.ts';
import type { Executor } from '../../db/database.ts';
import type { OutboundPolicy, OutboundRequest, OutboundResponse } from '../../net/safe-fetch.ts';
import { backchannelLogoutClientsOf } from '../applications/backchannel-logout.repo.ts';
import type { SigningAlg } from '../applications/applications.types.ts';
import type { DeliveryRow } from '../deliveries/deliveries.repo.ts';
import { isSignalPayload, type OutboxPayload } from '../event-payload/signal-payload.types.ts';
import { parseLogoutTarget } from './backchannel-logout.sink.ts';

/** The event a logout token carries (Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** A logout token is good for this long after it is signed: enough for the request to arrive. */
export const LOGOUT_TOKEN_TTL_SECS = 120;

export interface BackchannelLogoutPerformerDeps {
  db: Executor;
  clock: Clock;
  /** The provider's issuer (`${baseUrl}/oidc`). */
  issuer: string;
  /** The provider's key that signs now for `alg`, imported (src/oidc/provider-keys.ts). */
  signer(alg: SigningAlg): Promise<{ kid: string; key: CryptoKey | Uint8Array }>;
  fetch: (url: string, request: OutboundRequest, policy: OutboundPolicy) => Promise<OutboundResponse>;
  outbound: OutboundPolicy;
}

/** What the dispatcher expects of a channel's sender (events/dispatcher.ts's Performer, which sits above this module). */
interface DeliveryResult {
  ok: boolean;
  responseStatus?: number;
  error?: string;
  final?: boolean;
}
type Performer = (delivery: DeliveryRow, payload: OutboxPayload) => Promise<DeliveryResult>;

const final = (error: string): DeliveryResult => ({ ok: false, final: true, error });

/**
 * Sends one logout token (Back-Channel Logout 1.0 §2.4-2.8): a JWT signed with the provider's
 * key for the application's ID token algorithm, `typ` logout+jwt, with iss, aud (the client id),
 * iat, a short exp, jti (the delivery's id: a retry repeats it, so the application can drop a
 * replay), sub, sid when known, the back-channel logout event and never a nonce. POSTed as
 * `logout_token=…` (form encoded) through the SSRF-safe fetch. 2xx is done; 400 means the
 * application refused the token, which sending it again cannot change; anything else is retried.
 */
export function createBackchannelLogoutPerformer(deps: BackchannelLogoutPerformerDeps): Performer {
  return async (delivery, payload) => {
    if (!isSignalPayload(payload)) return final(`the ${delivery.channel} channel cannot carry ${payload.type}`);
    const target = parseLogoutTarget(delivery.target);
    if (!target) return final(`not a back-channel logout target: ${delivery.target}`);
    const client = (await backchannelLogoutClientsOf(deps.db, [target.appId])).get(target.appId);
    if (!client) return final('the application no longer exists or no longer has a backchannel_logout_uri');
    if (client.sessionRequired && target.sid === null) return final('the application requires sid and no session of it is known');
    const signer = await deps.signer(client.alg);
    const now = Math.floor(deps.clock.now() / 1000);
    const token = await new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...(target.sid === null ? {} : { sid: target.sid }) })
      .setProtectedHeader({ alg: client.alg, kid: signer.kid, typ: 'logout+jwt' })
      .setIssuer(deps.issuer)
      .setAudience(client.id)
      .setSubject(payload.subject.user_id)
      .setIssuedAt(now)
      .setExpirationTime(now + LOGOUT_TOKEN_TTL_SECS)
      .setJti(delivery.id)
      .sign(signer.key);
    const body = new URLSearchParams({ logout_token: token }).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Interim-Backchannel-Logout/1' };
    const response = await deps.fetch(client.uri, { method: 'POST', headers, body }, deps.outbound);
    if (response.status >= 200 && response.status < 300) return { ok: true, responseStatus: response.status };
    return { ok: false, final: response.status === 400, responseStatus: response.status, error: `HTTP ${response.status}: ${response.body.slice(0, 500)}` };
  };
}
