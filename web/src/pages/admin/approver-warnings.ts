import type { Group, NotificationPolicy } from '../../api/admin-types.ts';

/** What the editor knows of who would approve and be notified (the one-stage fields). */
export interface ApproverChoice {
  approval: 'groups' | 'open';
  approver_group_ids: readonly string[];
  escalate: boolean;
  escalation_group_id: string;
  notification_policy: NotificationPolicy;
  notification_count: string;
}

export interface ApproverWarnings {
  /** Chosen approver groups with no active member: nobody in them can approve. */
  emptyGroups: Group[];
  /** Why nobody would be notified of a new request, or null when someone would. */
  nobodyNotified: string | null;
  /** Who is notified, in words ("up to 2 of 5 people, at random"), when it can be told. */
  reach: string | null;
}

const people = (n: number) => (n === 1 ? '1 person' : `${n} people`);

/**
 * The warnings of the approver section, from the groups' active member counts. They follow
 * the notification rules (src/modules/notifications/approver-recipients.ts): a new request
 * notifies members of the approver groups; an open template notifies its escalation group
 * if it has one, else the active admins (never nobody: the admin editing it is one). Every
 * policy notifies at least one person when anyone is in the pool, so "nobody" is an empty
 * pool. Counts may count someone in two groups twice: the reach is "up to".
 */
export function approverWarnings(choice: ApproverChoice, groups: readonly Group[]): ApproverWarnings {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const countOf = (id: string) => byId.get(id)?.member_count;
  const chosen = choice.approval === 'groups' ? choice.approver_group_ids.map((id) => byId.get(id)).filter((g): g is Group => g !== undefined) : [];
  const emptyGroups = chosen.filter((g) => g.member_count === 0);

  let pool: number | null;
  let nobodyNotified: string | null = null;
  if (choice.approval === 'groups') {
    if (chosen.length === 0 || chosen.some((g) => g.member_count === undefined)) pool = null;
    else {
      pool = chosen.reduce((sum, g) => sum + (g.member_count ?? 0), 0);
      if (pool === 0) nobodyNotified = 'none of the approver groups has an active member';
    }
  } else if (choice.escalate && choice.escalation_group_id) {
    const n = countOf(choice.escalation_group_id);
    pool = n ?? null;
    if (n === 0) nobodyNotified = 'an open template notifies its escalation group, and it has no active member';
  } else pool = null;

  let reach: string | null = null;
  if (pool !== null && pool > 0) {
    const n = Math.max(1, Number(choice.notification_count) || 1);
    reach =
      choice.notification_policy === 'all'
        ? `Notified of a new request: up to ${people(pool)}.`
        : choice.notification_policy === 'round_robin'
          ? `Notified of a new request: one of up to ${people(pool)}, taking turns.`
          : `Notified of a new request: up to ${Math.min(n, pool)} of ${people(pool)}, ${choice.notification_policy === 'first_n' ? 'in a stable order' : 'at random'}.`;
  } else if (choice.approval === 'open' && !(choice.escalate && choice.escalation_group_id)) reach = 'Notified of a new request: the active administrators.';
  return { emptyGroups, nobodyNotified, reach };
}
