import type { Core } from '../../core.ts';
import { lockRow } from '../../db/locks.ts';
import type { TemplateHooks } from '../templates/templates.service.ts';
import { createScriptsRepo } from './scripts.repo.ts';

/**
 * For the templates module (which sits above scripts): a template's trigger names a live
 * script. The row lock is the same one deleting a script takes before it checks that no
 * template runs it, so the two cannot both pass.
 */
export function scriptTemplateHooks(core: Pick<Core, 'dialect'>): Pick<TemplateHooks, 'lockLiveScript'> {
  return {
    async lockLiveScript(trx, scriptId) {
      await lockRow(trx, core.dialect, 'scripts', 'id', scriptId);
      return createScriptsRepo(trx).isLive(scriptId);
    },
  };
}
