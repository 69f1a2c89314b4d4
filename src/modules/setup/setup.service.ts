import type { Core } from '../../core.ts';
import type { Actor } from '../../http/actor.ts';
import { assertThat, forbidden } from '../../http/errors.ts';
import { createApplicationsRepo } from '../applications/applications.repo.ts';
import { createGroupsRepo } from '../groups/groups.repo.ts';
import { createMappingsRepo } from '../mappings/mappings.repo.ts';
import { createTemplatesRepo } from '../templates/templates.repo.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { checklistOf } from './setup-checklist.ts';

/** The first-admin checklist (admin only), from one existence check per owner. */
export function createSetupService(core: Pick<Core, 'db'>) {
  const { db } = core;
  return {
    checklist: async (actor: Actor) => {
      assertThat(actor.isAdmin, forbidden());
      const [hasGroup, hasApplication, hasMapping, hasTemplate, userCount] = await Promise.all([
        createGroupsRepo(db).anyVisible(),
        createApplicationsRepo(db).anyLive(),
        createMappingsRepo(db).anyExists(),
        createTemplatesRepo(db).anyLive(),
        createUsersRepo(db).countUndeleted(),
      ]);
      return checklistOf({ hasGroup, hasApplication, hasMapping, hasTemplate, userCount });
    },
  };
}
export type SetupService = ReturnType<typeof createSetupService>;
