import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { createOidcPayloadsRepo } from '../../oidc/payloads.repo.ts';
import { effectiveClaims } from '../claims/claims.repo.ts';
import type { RelatesTo } from './ssf.service.ts';

/**
 * DESIGN "Signals": events flow only for users who have a grant, consent or mapping for
 * the application. A grant and a mapping both show as effective claims now; a consent is
 * the provider's Grant for (user, client).
 */
export function ssfRelatesTo(core: Pick<Core, 'clock'>): RelatesTo {
  return async (trx: Tx, userId: string, appId: string) =>
    Object.keys((await effectiveClaims(trx, userId, appId, core.clock.now())).claims).length > 0 || (await createOidcPayloadsRepo(trx).hasGrantFor(userId, appId));
}
