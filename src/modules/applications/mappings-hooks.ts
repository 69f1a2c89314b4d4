import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { lockRow } from '../../db/locks.ts';
import type { MappingsHooks } from '../mappings/mappings.service.ts';
import { createApplicationsRepo } from './applications.repo.ts';

/** Hooks for the mappings module, which must not reach into the applications table itself. */
export function mappingsHooks(core: Pick<Core, 'dialect'>): Pick<MappingsHooks, 'lockLiveApp'> {
  return {
    async lockLiveApp(trx: Tx, appId: string) {
      await lockRow(trx, core.dialect, 'applications', 'id', appId);
      return Boolean(await createApplicationsRepo(trx).findLive(appId));
    },
  };
}
