import { createHash } from 'node:crypto';
import { importJWK, jwtVerify, createLocalJWKSet, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { Core } from '../../core.ts';
import { keySetAt } from '../../oidc/key-schedule.ts';
import { readKeys, readKeysVersion, type PrivateJwk } from '../../oidc/keys.ts';
import type { Encrypter } from '../../security/encryption.ts';
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

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;
const publicOf = (jwk: PrivateJwk): JWK => {
  const out: Record<string, unknown> = { ...jwk };
  for (const m of PRIVATE_MEMBERS) delete out[m];
  return out as JWK;
};

interface KeyState {
  version: string;
  validUntil: number;
  signer: { kid: string; key: CryptoKey | Uint8Array };
  verify: ReturnType<typeof createLocalJWKSet>;
}

/**
 * Signs SETs with the provider's current RS256 key (CAEP Interoperability Profile: RS256,
 * 2048-bit keys; src/oidc/keys.ts makes them) and verifies the receivers' access tokens
 * against the provider's published keys. The keys come from the database and are
 * re-read when their version changes or the schedule moves on (rotation).
 */
export function createSetKeys(core: Pick<Core, 'db' | 'clock'>, encrypter: Encrypter) {
  let state: KeyState | undefined;
  let loading: Promise<KeyState> | undefined;

  async function load(version: string): Promise<KeyState> {
    const stored = await readKeys(core, encrypter);
    const now = core.clock.now();
    const { secrets, validUntil } = keySetAt(stored.keys, stored.cookieKeys, now);
    // Within an alg the key that signs now comes first (key-schedule.ts).
    const rsa = secrets.keys.find((k) => k.alg === 'RS256');
    if (!rsa) throw new Error('no RS256 signing key: the provider keys are incomplete');
    return { version, validUntil, signer: { kid: rsa.kid, key: await importJWK(rsa, 'RS256') }, verify: createLocalJWKSet({ keys: secrets.keys.map(publicOf) }) };
  }

  async function current(): Promise<KeyState> {
    const version = await readKeysVersion(core.db);
    if (state && state.version === version && core.clock.now() < state.validUntil) return state;
    loading ??= load(version).finally(() => (loading = undefined));
    state = await loading;
    return state;
  }

  return {
    /** The compact SET: header typ `secevent+jwt`, alg RS256, kid; `iat` now. */
    sign: async (claims: SetClaims): Promise<string> => {
      const { signer } = await current();
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'secevent+jwt', kid: signer.kid }).setIssuedAt(seconds(core.clock.now())).sign(signer.key);
    },
    /** A receiver's access token: signed by the provider, for `audience`, unexpired at the injected clock; its claims. */
    verifyAccessToken: async (token: string, issuer: string, audience: string): Promise<JWTPayload> => {
      const { verify } = await current();
      const { payload } = await jwtVerify(token, verify, { issuer, audience, currentDate: new Date(core.clock.now()), clockTolerance: 5 });
      return payload;
    },
  };
}
export type SetKeys = ReturnType<typeof createSetKeys>;
