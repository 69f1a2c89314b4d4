import type { Core } from '../../core.ts';
import type { TemplateHooks } from '../templates/templates.service.ts';
import type { MyTemplateState } from '../templates/templates.types.ts';
import { isScheduled } from './activation.ts';
import { createRequestsRepo, type RequestRow } from './requests.repo.ts';

/**
 * What a requester already has from each template, for the catalogue (issue 14 §1): live or
 * scheduled access wins over a waiting request (an extension waits on a live grant), so the
 * card links to what a new request would collide with. Pure: the rows and the clock decide.
 */
export function requesterStateOf(rows: readonly RequestRow[], now: number): MyTemplateState | null {
  const granted = rows.find((r) => r.status === 'approved');
  if (granted) {
    return {
      state: isScheduled(granted, now) ? 'scheduled' : 'active',
      request_id: granted.id,
      starts_at: granted.starts_at,
      expires_at: granted.expires_at,
      seconds_left: granted.expires_at === null ? null : Math.max(0, Math.floor((granted.expires_at - now) / 1000)),
    };
  }
  const waiting = rows.find((r) => r.status === 'pending' || r.status === 'provisioning');
  return waiting ? { state: 'pending', request_id: waiting.id, starts_at: waiting.starts_at, expires_at: null, seconds_left: null } : null;
}

/** The templates module's requesterStates hook, answered from the requests table it may not read. */
export function requesterStateHooks(core: Pick<Core, 'db' | 'clock'>): Required<Pick<TemplateHooks, 'requesterStates'>> {
  return {
    async requesterStates(userId, templateIds) {
      const rows = await createRequestsRepo(core.db).listOpenOrLive(userId, templateIds);
      const now = core.clock.now();
      const states = new Map<string, MyTemplateState>();
      for (const templateId of new Set(rows.map((r) => r.template_id))) {
        const state = requesterStateOf(
          rows.filter((r) => r.template_id === templateId),
          now,
        );
        if (state) states.set(templateId, state);
      }
      return states;
    },
  };
}
