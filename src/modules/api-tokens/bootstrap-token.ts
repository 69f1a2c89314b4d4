import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { SYSTEM } from '../../http/actor.ts';
import { newId } from '../../security/ids.ts';
import { sha256 } from '../../security/tokens.ts';
import type { BootstrapHooks } from '../users/bootstrap.types.ts';
import { createApiTokensRepo } from './api-tokens.repo.ts';

/** The users module's bootstrap hook: INTERIM_BOOTSTRAP_TOKEN becomes the first admin's API token. */
export function bootstrapHooks(core: Pick<Core, 'clock' | 'audit'>): BootstrapHooks {
  return {
    async issueBootstrapToken(trx: Tx, adminId: string, token: string, now: number) {
      const tokenId = newId(core.clock);
      await createApiTokensRepo(trx).insert({ id: tokenId, user_id: adminId, name: 'bootstrap', token_hash: sha256(token), expires_at: null, created_at: now });
      await core.audit.append(trx, { actor: SYSTEM, action: 'api_token.created', targetType: 'api_token', targetId: tokenId, data: { user_id: adminId, name: 'bootstrap' } });
    },
  };
}
