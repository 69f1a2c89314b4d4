import type { Executor } from '../../db/database.ts';
import type { SigningAlg } from './applications.types.ts';

/** What back-channel logout needs of a live application that registered a `backchannel_logout_uri`. */
export interface BackchannelLogoutClient {
  id: string;
  uri: string;
  sessionRequired: boolean;
  /** The logout token is signed as the application's ID tokens are. */
  alg: SigningAlg;
}

/** The live applications among `ids` that registered a back-channel logout URI, by id. */
export async function backchannelLogoutClientsOf(db: Executor, ids: readonly string[]): Promise<Map<string, BackchannelLogoutClient>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('applications')
    .select(['id', 'backchannel_logout_uri', 'backchannel_logout_session_required', 'id_token_signed_response_alg'])
    .where('id', 'in', [...new Set(ids)])
    .where('deleted_at', 'is', null)
    .where('backchannel_logout_uri', 'is not', null)
    .execute();
  return new Map(
    rows.map((r) => [r.id, { id: r.id, uri: r.backchannel_logout_uri!, sessionRequired: r.backchannel_logout_session_required === 1, alg: r.id_token_signed_response_alg as SigningAlg }]),
  );
}
