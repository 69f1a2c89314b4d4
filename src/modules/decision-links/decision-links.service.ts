import type { Core } from '../../core.ts';
import type { Executor } from '../../db/database.ts';
import type { Actor } from '../../http/actor.ts';
import { AppError, assertThat, conflict, forbidden, notFound } from '../../http/errors.ts';
import { randomSecret, sha256 } from '../../security/tokens.ts';
import type { RequestsService } from '../requests/requests.service.ts';
import type { RequestRow } from '../requests/requests.repo.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { createDecisionLinksRepo, type DecisionLinkRow } from './decision-links.repo.ts';
import type { Decision } from './decision-links.types.ts';

/** How long a decision link lives (DESIGN "Assurance": the Slack link's 10 minutes). */
export const DECISION_LINK_TTL_MS = 10 * 60_000;

export interface DecisionLinkInput {
  userId: string;
  requestId: string;
  decision: Decision;
  /** The approval stage the decision is for; undefined: the request's current stage. Null for revoke. */
  stage?: number | null;
  comment?: string;
  /** The reason of a revocation. */
  reason?: string;
}

export interface DecisionLinkDeps {
  requests: Pick<RequestsService, 'previewDecision' | 'approve' | 'deny' | 'revoke'>;
  hasFactor(db: Executor, userId: string): Promise<boolean>;
}

/**
 * One-time decision links (issue 15 §2–3): Slack and the CLI send an approver to the decision
 * page, where the step-up happens in the browser. A link is for one user, request, decision
 * and stage; only a hash is stored; it lives 10 minutes. Reading it never spends it (Slack
 * unfurls links); completing it spends the link and the step-up proof in the decision's own
 * transaction (RequestsService's `within`), so a link decides at most once and never beside
 * another decision of the same request.
 */
export function createDecisionLinks(core: Pick<Core, 'db' | 'clock' | 'baseUrl'>, deps: DecisionLinkDeps) {
  const { db, clock } = core;

  /** The user as an actor, or 404 when they no longer exist or are disabled. */
  async function actorOf(userId: string): Promise<Actor> {
    const user = await createUsersRepo(db).findById(userId);
    assertThat(user && user.disabled === 0, notFound('user'));
    return { userId: user.id, isAdmin: user.is_admin === 1, via: 'session', mustChangePassword: false };
  }

  /** The caller's own live, unspent link; 404 for an unknown token, 403 for another user's, 410 when spent or expired. */
  async function liveLinkOf(actor: Actor, token: string): Promise<DecisionLinkRow> {
    const row = await createDecisionLinksRepo(db).find(sha256(token));
    assertThat(row, new AppError(404, 'link_not_found', 'this decision link does not exist; ask for a new one'));
    if (row.user_id !== actor.userId) throw forbidden('this decision link was made for someone else; sign in as that person, or ask for your own link');
    if (row.used_at !== null) throw new AppError(410, 'link_used', 'this decision link was already used; each link decides once');
    if (clock.now() >= row.expires_at) throw new AppError(410, 'link_expired', 'this decision link expired (links last 10 minutes); ask for a new one');
    return row;
  }

  const refuseMovedStage = (row: Pick<DecisionLinkRow, 'stage'>, request: Pick<RequestRow, 'current_stage'>) => {
    if (row.stage !== null && row.stage !== request.current_stage) throw conflict('stage_moved_on', 'the request moved on to another approval stage since this link was made; open the request instead');
  };

  return {
    /** Makes a link for a user who may make this decision now (the requests service's checks); 409 when the stage moved on. */
    async create(input: DecisionLinkInput): Promise<{ url: string; expires_at: number }> {
      const actor = await actorOf(input.userId);
      const preview = await deps.requests.previewDecision(actor, input.requestId, input.decision);
      const stage = input.decision === 'revoke' ? null : (input.stage ?? preview.stage);
      refuseMovedStage({ stage }, preview.request);
      const token = randomSecret();
      const now = clock.now();
      const row: DecisionLinkRow = {
        token_hash: sha256(token),
        user_id: actor.userId,
        request_id: input.requestId,
        decision: input.decision,
        stage,
        comment: (input.decision === 'revoke' ? input.reason : input.comment) ?? null,
        created_at: now,
        expires_at: now + DECISION_LINK_TTL_MS,
        used_at: null,
      };
      await createDecisionLinksRepo(db).insert(row);
      return { url: `${core.baseUrl.replace(/\/$/, '')}/decide/${token}`, expires_at: row.expires_at };
    },

    /** What the link will decide, for the decision page. Reads only: never spends the link. */
    async read(actor: Actor, token: string) {
      const row = await liveLinkOf(actor, token);
      const preview = await deps.requests.previewDecision(actor, row.request_id, row.decision);
      refuseMovedStage(row, preview.request);
      return {
        link: row,
        request: preview.request,
        stepUp: {
          required: preview.stepUpMinutes !== null,
          has_factor: await deps.hasFactor(db, actor.userId),
          max_age_minutes: preview.stepUpMinutes,
          binding: { action: row.decision, target: row.request_id, stage: row.stage },
        },
      };
    },

    /** Spends the link and the step-up proof and makes the decision, in one transaction. */
    async complete(actor: Actor, token: string, stepUp: string | undefined): Promise<RequestRow> {
      const row = await liveLinkOf(actor, token);
      const via = {
        stepUp,
        within: async (trx: Executor, request: RequestRow) => {
          // Rechecked on the locked request: the link still unspent and live, and the stage unchanged.
          if (!(await createDecisionLinksRepo(trx).spend(row.token_hash, actor.userId, clock.now()))) throw new AppError(410, 'link_used', 'this decision link was already used or expired');
          refuseMovedStage(row, request);
        },
      };
      const comment = row.comment ?? undefined;
      if (row.decision === 'approve') return deps.requests.approve(actor, row.request_id, comment, via);
      if (row.decision === 'deny') return deps.requests.deny(actor, row.request_id, comment, via);
      return deps.requests.revoke(actor, row.request_id, row.comment ?? 'revoked through a decision link', via);
    },
  };
}
export type DecisionLinks = ReturnType<typeof createDecisionLinks>;
