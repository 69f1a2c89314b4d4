import { createHash } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { Core } from '../../core.ts';
import type { ProviderKeys } from '../../oidc/provider-keys.ts';
import type { SignalPayload } from '../event-payload/signal-payload.types.ts';
import type { StreamRow } from './ssf.repo.ts';
import { EVENT_OF_SIGNAL, EVENT_TYPES, VERIFICATION_EVENT } from './ssf.types.ts';

/** SET claims before signing: `iat` is added when signed. */
export type SetClaims = JWTPayload & { jti: string; events: Record<string, Record<string, unknown>> };

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The `jti` of one signal's SET for one stream: the same on every retry and every poll. */
export const jtiOf = (signalId: string, streamId: string): string => createHash('sha256').update(`${signalId}\u0000${streamId}`).digest('base64url').slice(0, 32);

/** The subject identifier in the stream's format (SSF 1.0 `sub_id`, RFC 9493). */
function subjectOf(payload: SignalPayload, stream: Pick<StreamRow, 'format'>, issuer: string) {
  return stream.format === 'email' ? { format: 'email', email: payload.subject.email } : { format: 'iss_sub', iss: issuer, sub: payload.subject.user_id };
}

/** The one event a signal becomes (CAEP 1.0 / RISC), with its event claims. */
function eventOf(payload: SignalPayload): Record<string, Record<string, unknown>> {
  const type = EVENT_OF_SIGNAL[payload.type];
  const caep = { event_timestamp: seconds(Date.parse(payload.occurred_at)), initiating_entity: payload.initiator, reason_admin: { en: payload.reason || 'access changed' } };
  switch (type) {
    case EVENT_TYPES.tokenClaimsChange:
      return { [type]: { ...caep, claims: payload.claims ?? {} } };
    case EVENT_TYPES.sessionRevoked:
      return { [type]: caep };
    case EVENT_TYPES.credentialChange:
      return { [type]: { ...caep, credential_type: 'password', change_type: 'update' } };
    default:
      // RISC account events carry no event claims of their own.
      return { [type]: {} };
  }
}

/** A signal's SET for one stream, unsigned: iss, aud (the receiver's client id), jti, txn (the outbox id), sub_id, one event. */
export function setClaimsFor(payload: SignalPayload, stream: Pick<StreamRow, 'id' | 'app_id' | 'format'>, issuer: string): SetClaims {
  return { iss: issuer, aud: stream.app_id, jti: jtiOf(payload.id, stream.id), txn: payload.id, sub_id: subjectOf(payload, stream, issuer), events: eventOf(payload) };
}

/** SSF 1.0 §8.1.4: a verification event; its subject is the stream. */
export function verificationClaims(stream: Pick<StreamRow, 'id' | 'app_id'>, issuer: string, jti: string, state: string | undefined): SetClaims {
  return { iss: issuer, aud: stream.app_id, jti, sub_id: { format: 'opaque', id: stream.id }, events: { [VERIFICATION_EVENT]: state === undefined ? {} : { state } } };
}

/**
 * Signs SETs with the provider's current RS256 key (CAEP Interoperability Profile: RS256,
 * 2048-bit keys; src/oidc/keys.ts makes them) and verifies the receivers' access tokens
 * against the provider's published keys (src/oidc/provider-keys.ts).
 */
export function createSetKeys(core: Pick<Core, 'clock'>, keys: ProviderKeys) {
  return {
    /** The compact SET: header typ `secevent+jwt`, alg RS256, kid; `iat` now. */
    sign: async (claims: SetClaims): Promise<string> => {
      const signer = await keys.signer('RS256');
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'secevent+jwt', kid: signer.kid }).setIssuedAt(seconds(core.clock.now())).sign(signer.key);
    },
    /** A receiver's access token: signed by the provider, for `audience`, unexpired at the injected clock; its claims. */
    verifyAccessToken: (token: string, issuer: string, audience: string): Promise<JWTPayload> =>
      keys.verify(token, { issuer, audience, currentDate: new Date(core.clock.now()), clockTolerance: 5 }),
  };
}
export type SetKeys = ReturnType<typeof createSetKeys>;
