/**
 * Insights (issue 14 §6) as pure functions of the recorded facts: no database, no clock.
 * insights.service.ts reads the facts from their owners and calls these; every rule below
 * is tested on its own (test/insights-figures.test.ts) and end to end on a scripted
 * history (test/insights.test.ts). Durations are in seconds, shares in 0..1.
 */
import type { RequestHistoryRow } from '../requests/history.repo.ts';

/** An approval given this soon after the request became decidable is flagged as a rubber stamp. */
export const RUBBER_STAMP_SECS = 30;

/**
 * One grant request (kind `request`; extension requests are not counted) and its grant's usage:
 * the requests module's history row, its 0/1 flags as booleans.
 */
export interface RequestFact extends Omit<RequestHistoryRow, 'escalated' | 'break_glass'> {
  escalated: boolean;
  /** Granted by the requester to themselves (break-glass): no one decided it. */
  break_glass: boolean;
  first_used_at: number | null;
  last_used_at: number | null;
}

/** One approval (a vote) of one approver, in one stage. */
export interface VoteFact {
  request_id: string;
  approver_id: string;
  stage: number;
  comment: string | null;
  created_at: number;
}

/**
 * The p-th percentile (0..1) by linear interpolation between closest ranks (the "R-7"
 * definition most tools use): the median of [1, 2, 3, 4] is 2.5, its p90 3.7. Null for none.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * p;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export const median = (values: readonly number[]) => percentile(values, 0.5);

const secs = (ms: number) => ms / 1000;

/** A request a person other than the requester decided (approved or denied). */
const humanDecision = (r: RequestFact) => r.decided_at !== null && r.decided_by !== null && !r.break_glass && r.decided_by !== r.requester_id;
const wasApproved = (r: RequestFact) => r.approved_at !== null;

/** When the grant's time ended or ends: the earlier of its end and its (possibly extended) expiry. */
export function grantEnd(r: Pick<RequestFact, 'ended_at' | 'expires_at'>): number | null {
  if (r.ended_at === null) return r.expires_at;
  if (r.expires_at === null) return r.ended_at;
  return Math.min(r.ended_at, r.expires_at);
}

export interface GrantFigures {
  request_id: string;
  template_id: string;
  requester_id: string;
  activated_at: number;
  ends_at: number | null;
  first_used_at: number | null;
  last_used_at: number | null;
  /** From activation to the first token; null when never used. */
  time_to_first_use_secs: number | null;
  granted_secs: number | null;
  /** From activation to the last token (0 when never used). */
  used_secs: number;
  /** used / granted, capped to 0..1; null when the granted time is unknown or zero. */
  used_share: number | null;
}

/** Per grant: a request whose window opened (activated). */
export function grantFigures(r: RequestFact): GrantFigures | null {
  if (r.activated_at === null) return null;
  const end = grantEnd(r);
  const granted = end === null ? null : Math.max(0, end - r.activated_at);
  const used = r.last_used_at === null ? 0 : Math.max(0, r.last_used_at - r.activated_at);
  return {
    request_id: r.id,
    template_id: r.template_id,
    requester_id: r.requester_id,
    activated_at: r.activated_at,
    ends_at: end,
    first_used_at: r.first_used_at,
    last_used_at: r.last_used_at,
    time_to_first_use_secs: r.first_used_at === null ? null : secs(Math.max(0, r.first_used_at - r.activated_at)),
    granted_secs: granted === null ? null : secs(granted),
    used_secs: secs(granted === null ? used : Math.min(used, granted)),
    used_share: granted === null || granted === 0 ? null : Math.min(1, used / granted),
  };
}

export interface RequestSummary {
  requests: number;
  approved: number;
  denied: number;
  /** approved / (approved + denied); null when none was decided. */
  approval_rate: number | null;
  decision_median_secs: number | null;
  decision_p90_secs: number | null;
  escalations: number;
  lapsed: number;
  grants: number;
  never_used: number;
  first_use_median_secs: number | null;
  /** Granted time before the last token, and the rest, summed over the grants with a known end. */
  used_secs: number;
  unused_secs: number;
}

/** Per template and overall: the same figures over a set of requests. */
export function summarise(requests: readonly RequestFact[]): RequestSummary {
  const approved = requests.filter(wasApproved).length;
  const denied = requests.filter((r) => r.status === 'denied').length;
  const decisionTimes = requests.filter(humanDecision).map((r) => secs(r.decided_at! - r.created_at));
  const grants = requests.map(grantFigures).filter((g): g is GrantFigures => g !== null);
  const firstUses = grants.flatMap((g) => (g.time_to_first_use_secs === null ? [] : [g.time_to_first_use_secs]));
  const known = grants.filter((g) => g.granted_secs !== null);
  const used = known.reduce((sum, g) => sum + g.used_secs, 0);
  const granted = known.reduce((sum, g) => sum + g.granted_secs!, 0);
  return {
    requests: requests.length,
    approved,
    denied,
    approval_rate: approved + denied === 0 ? null : approved / (approved + denied),
    decision_median_secs: median(decisionTimes),
    decision_p90_secs: percentile(decisionTimes, 0.9),
    escalations: requests.filter((r) => r.escalated).length,
    lapsed: requests.filter((r) => r.status === 'lapsed').length,
    grants: grants.length,
    never_used: grants.filter((g) => g.first_used_at === null).length,
    first_use_median_secs: median(firstUses),
    used_secs: used,
    unused_secs: granted - used,
  };
}

/** Requests grouped by template, in first-seen order of `templateIds` (templates without requests included). */
export function byTemplate(requests: readonly RequestFact[], templateIds: readonly string[]): Array<{ template_id: string } & RequestSummary> {
  const ids = [...new Set([...templateIds, ...requests.map((r) => r.template_id)])];
  return ids.map((id) => ({ template_id: id, ...summarise(requests.filter((r) => r.template_id === id)) }));
}

export interface ApproverFigures {
  approver_id: string;
  decisions: number;
  approvals: number;
  denials: number;
  median_decide_secs: number | null;
  approvals_without_comment: number;
  /** Approvals within RUBBER_STAMP_SECS of the request becoming decidable for their stage. */
  rubber_stamps: number;
}

/**
 * When a request became decidable in a stage: stage 1 at submission; a later stage when the
 * previous stage's last counted approval moved it on.
 */
export function decidableAt(request: Pick<RequestFact, 'created_at'>, stage: number, votes: readonly VoteFact[]): number {
  if (stage <= 1) return request.created_at;
  const previous = votes.filter((v) => v.stage === stage - 1).map((v) => v.created_at);
  return previous.length === 0 ? request.created_at : Math.max(...previous);
}

/**
 * Per approver: their approvals (votes) and denials of these requests, how long each took
 * from the moment the request became decidable, approvals without a comment, and rubber
 * stamps. Ordered by decisions (most first), then id.
 */
export function approverFigures(requests: readonly RequestFact[], votes: readonly VoteFact[], rubberStampSecs = RUBBER_STAMP_SECS): ApproverFigures[] {
  const byRequest = new Map(requests.map((r) => [r.id, r]));
  const votesOf = new Map<string, VoteFact[]>();
  for (const v of votes) {
    if (!byRequest.has(v.request_id)) continue;
    votesOf.set(v.request_id, [...(votesOf.get(v.request_id) ?? []), v]);
  }
  type Tally = { approvals: number; denials: number; times: number[]; noComment: number; stamps: number };
  const tallies = new Map<string, Tally>();
  const tally = (id: string) => {
    let t = tallies.get(id);
    if (!t) tallies.set(id, (t = { approvals: 0, denials: 0, times: [], noComment: 0, stamps: 0 }));
    return t;
  };
  for (const [requestId, own] of votesOf) {
    const request = byRequest.get(requestId)!;
    for (const v of own) {
      const t = tally(v.approver_id);
      const took = secs(Math.max(0, v.created_at - decidableAt(request, v.stage, own)));
      t.approvals++;
      t.times.push(took);
      if (v.comment === null || v.comment.trim() === '') t.noComment++;
      if (took <= rubberStampSecs) t.stamps++;
    }
  }
  for (const r of requests) {
    if (r.status !== 'denied' || !humanDecision(r)) continue;
    const t = tally(r.decided_by!);
    t.denials++;
    t.times.push(secs(Math.max(0, r.decided_at! - decidableAt(r, r.current_stage, votesOf.get(r.id) ?? []))));
  }
  return [...tallies.entries()]
    .map(([id, t]) => ({
      approver_id: id,
      decisions: t.approvals + t.denials,
      approvals: t.approvals,
      denials: t.denials,
      median_decide_secs: median(t.times),
      approvals_without_comment: t.noComment,
      rubber_stamps: t.stamps,
    }))
    .sort((a, b) => b.decisions - a.decisions || (a.approver_id < b.approver_id ? -1 : a.approver_id > b.approver_id ? 1 : 0));
}
