import type { Executor } from '../../db/database.ts';
import type { Actor } from '../../http/actor.ts';
import { liveGroupIdsOf, mayView } from '../requests/index.ts';
import { createRequestsRepo } from '../requests/requests.repo.ts';
import { loadTemplateForRequest } from '../templates/templates.repo.ts';

export interface LiveEvent {
  type: string;
  request_id: string | null;
}

/**
 * Decides who may hear about each event: the same rule as reading the request
 * (GET /access-requests/:id), plus the approvers it notified. Groups are looked up
 * once per user and poll, with the same expiry filter as the claims.
 */
export function createAudience(db: Executor, now: number) {
  const groups = new Map<string, Promise<Set<string>>>();
  const requests = new Map<string, ReturnType<typeof loadRequest>>();

  function loadRequest(id: string) {
    return (async () => {
      const request = await createRequestsRepo(db).findAudienceFields(id);
      if (!request) return undefined;
      const template = await loadTemplateForRequest(db, request.template_id, { includeDeleted: true });
      if (!template) return undefined;
      return { request, template, notified: new Set(JSON.parse(request.notified_approver_ids) as string[]) };
    })();
  }

  const groupsOf = (userId: string) => {
    let found = groups.get(userId);
    if (!found) groups.set(userId, (found = liveGroupIdsOf(db, userId, now)));
    return found;
  };

  return async function mayHear(actor: Actor, event: LiveEvent): Promise<boolean> {
    if (!event.request_id) return false;
    let loaded = requests.get(event.request_id);
    if (!loaded) requests.set(event.request_id, (loaded = loadRequest(event.request_id)));
    const found = await loaded;
    if (!found) return false;
    const { request, template, notified } = found;
    if (request.requester_id === actor.userId || notified.has(actor.userId)) return true;
    return mayView(template, request, actor, await groupsOf(actor.userId));
  };
}
