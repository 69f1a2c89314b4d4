import { conflict } from '../../http/errors.ts';
import { newId } from '../../security/ids.ts';
import type { Actor } from '../../http/actor.ts';
import { isRefused, transition } from './lifecycle.ts';
import { recordRequestEvent, type RequestsCore } from './request-events.ts';
import { createRequestsRepo } from './requests.repo.ts';
import type { RequestViews } from './requests.views.ts';

/** The per-request thread: the requester and everyone who may see the request can read and write it. */
export function createDiscussionService(core: RequestsCore, views: Pick<RequestViews, 'loadVisible'>) {
  return {
    async addComment(actor: Actor, requestId: string, body: string) {
      const { request } = await views.loadVisible(actor, requestId);
      const allowed = transition(request.status, 'comment');
      if (isRefused(allowed)) throw conflict(allowed.code, allowed.detail);
      const comment = { id: newId(core.clock), request_id: requestId, author_id: actor.userId, body, created_at: core.clock.now() };
      await core.db.transaction().execute(async (trx) => {
        await createRequestsRepo(trx).insertComment(comment);
        await recordRequestEvent(core, trx, { type: 'comment_added', requestId, actor, data: { comment_id: comment.id, body } });
      });
      return comment;
    },
  };
}
export type DiscussionService = ReturnType<typeof createDiscussionService>;
