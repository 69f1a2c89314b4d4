import { sql } from 'kysely';
import { claimRows, claimRowsOf } from '../../db/locks.ts';
import { escalatingTemplatesQuery } from '../templates/templates.repo.ts';
import { recordRequestEvent, type RequestsCore } from './request-events.ts';
import { escalateLaterStages, markEscalated } from './stage-escalation.ts';
import { isExtendable } from './extension.ts';

const BATCH = 200;

/**
 * Escalates pending requests nobody decided within the template's escalation_after_mins.
 * Exactly once, even with several workers: request rows are claimed with SKIP LOCKED and the
 * flag is set by a conditional update, so only one transaction records `escalated`.
 */
export async function escalateOverdueRequests(core: RequestsCore): Promise<number> {
  const now = core.clock.now();
  const firstStage = await core.db.transaction().execute(async (trx) => {
    // Only the request rows are locked: an admin editing the template neither waits nor is skipped.
    const due = await claimRowsOf(
      trx
        .selectFrom('access_requests as r')
        .innerJoin(escalatingTemplatesQuery(trx).as('t'), 't.id', 'r.template_id')
        .selectAll('r')
        .where('r.status', '=', 'pending')
        .where('r.escalated', '=', 0)
        // Stage 1 escalates from the template's flat columns; later stages in escalateLaterStages.
        .where('r.current_stage', '=', 1)
        .where(sql<boolean>`r.created_at + t.escalation_after_mins * 60000 <= ${now}`)
        .orderBy('r.id')
        .limit(BATCH),
      core.dialect,
      'r',
    ).execute();
    return markEscalated(core, trx, due, now);
  });
  return firstStage + (await escalateLaterStages(core));
}

/**
 * Tells requesters their access ends soon, once per grant, `leadMs` before expiry.
 * Grants no longer than the lead time get no notice: they were short from the start.
 */
export async function announceExpiringGrants(core: RequestsCore, leadMs: number): Promise<number> {
  const now = core.clock.now();
  return core.db.transaction().execute(async (trx) => {
    const due = await claimRows(
      trx
        .selectFrom('access_requests')
        .selectAll()
        .where('status', '=', 'approved')
        .where('expiring_notice_at', 'is', null)
        .where('expires_at', '<=', now + leadMs)
        .where('expires_at', '>', now)
        // A grant lasting longer than the lead time, counted from its window's start (scheduled start), once that has opened.
        .where(sql<boolean>`expires_at - coalesce(starts_at, approved_at) > ${leadMs}`)
        .where((eb) => eb.or([eb('activated_at', 'is not', null), eb('starts_at', 'is', null)]))
        .orderBy('expires_at')
        .limit(BATCH),
      core.dialect,
    ).execute();
    let sent = 0;
    for (const request of due) {
      const result = await trx
        .updateTable('access_requests')
        .set({ expiring_notice_at: now })
        .where('id', '=', request.id)
        .where('status', '=', 'approved')
        .where('expiring_notice_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) continue;
      await recordRequestEvent(core, trx, {
        type: 'expiring_soon',
        requestId: request.id,
        actor: 'system',
        data: { expires_at: new Date(request.expires_at!).toISOString(), minutes_left: Math.ceil((request.expires_at! - now) / 60_000), extendable: await isExtendable(trx, request) },
      });
      sent++;
    }
    return sent;
  });
}
