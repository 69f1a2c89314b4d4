// The Shared Signals transmitter (issue 13 §2; docs/signals.md): built once by compose.ts.
import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import type { OutboundPolicy, OutboundRequest, OutboundResponse } from '../../net/safe-fetch.ts';
import type { ProviderKeys } from '../../oidc/provider-keys.ts';
import type { Encrypter } from '../../security/encryption.ts';
import { createSetKeys } from './ssf-set.ts';
import { createSsfPerformer, createSsfSink } from './ssf.delivery.ts';
import { createSsfService, type RelatesTo } from './ssf.service.ts';

export { ssfRoutes, ssfConfiguration, ssfSecurityScheme, SSF_PREFIX } from './ssf.routes.ts';
export type { SsfService } from './ssf.service.ts';

export interface SsfDeps {
  core: Pick<Core, 'db' | 'dialect' | 'clock' | 'baseUrl' | 'audit'>;
  encrypter: Encrypter;
  /** The provider's keys (src/oidc/provider-keys.ts), shared with back-channel logout. */
  providerKeys: ProviderKeys;
  /** The OpenID Provider's issuer: the SETs' `iss`. */
  issuer: string;
  maxAttempts: number;
  maxStreamsPerApp: number;
  fetch: (url: string, request: OutboundRequest, policy: OutboundPolicy) => Promise<OutboundResponse>;
  outbound: OutboundPolicy;
  relatesTo: RelatesTo;
  lockLiveApp: (trx: Tx, appId: string) => Promise<boolean>;
}

/** The transmitter's signal sink, its `ssf` performer and the stream service, sharing one signer. */
export function createSsf(deps: SsfDeps) {
  const shared = { ...deps, keys: createSetKeys(deps.core, deps.providerKeys) };
  return { sink: createSsfSink(shared), performer: createSsfPerformer(shared), service: createSsfService({ ...shared, longPollMs: 5000 }) };
}
