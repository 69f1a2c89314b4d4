import { z } from 'zod';
import { description, instant, name, searchText, toIso, toIsoOrNull } from '../../http/schemas.ts';
import { pageQuery } from '../../http/pagination.ts';
import type { GroupRow } from './groups.repo.ts';
import type { MemberRow, UserGroupRow } from './memberships.repo.ts';

export const groupOut = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  created_at: instant,
  updated_at: instant,
});
export type GroupOut = z.infer<typeof groupOut>;
/** A group as listed and read: with how many active users are live members (who could approve or be notified). */
export const groupWithCountOut = groupOut.extend({ member_count: z.number().int().describe('live members who are active users') });

export const listGroupsQuery = pageQuery.extend({
  q: searchText.optional().describe('part of the name or the description, any case'),
  name: searchText.optional().describe('part of the group name, any case'),
});

export const createGroupIn = z.strictObject({
  name,
  description: description.default(''),
});
export type CreateGroupIn = z.infer<typeof createGroupIn>;

export const updateGroupIn = z.strictObject({
  name: name.optional(),
  description: description.optional(),
});
export type UpdateGroupIn = z.infer<typeof updateGroupIn>;

export const memberParams = z.object({ id: z.uuid(), user_id: z.uuid() });

/** The name as it is stored: the exact text, not a search. */
export const groupNameParams = z.object({ name });

export const putMemberIn = z.strictObject({
  expires_at: instant.nullable().optional().describe('when the membership ends; omitted or null means never. Must be in the future'),
});
export type PutMemberIn = z.infer<typeof putMemberIn>;
/** The body may be left out entirely (`curl -X PUT …`): a membership that never expires. */
export const putMemberBody = putMemberIn.nullish();

export const memberOut = z.object({
  user_id: z.uuid(),
  email: z.string(),
  name: z.string(),
  expires_at: instant.nullable(),
  created_at: instant,
});

/** What a temporary grant's group stands for: the request that made it, named by its template and application. */
export interface GrantNames {
  request_id: string;
  template_id: string;
  template_name: string;
  application_id: string;
  application_name: string;
}

/** The requests module (above groups) names the requests behind grant groups. */
export type NameGrants = (requestIds: readonly string[]) => Promise<GrantNames[]>;

const grantOut = z.object({
  request_id: z.uuid().describe('the approved request this grant came from'),
  template_id: z.uuid(),
  template_name: z.string(),
  application_id: z.uuid(),
  application_name: z.string(),
});

export const userGroupOut = z.object({
  group_id: z.uuid(),
  name: z.string(),
  description: z.string(),
  system: z.boolean().describe('a temporary access grant made by an approved request'),
  expires_at: instant.nullable().describe('when this access ends: the earlier of the membership and group expiry, or null for never'),
  grant: grantOut.nullable().describe('for a temporary grant: the request it came from and what it grants, by name; null for an ordinary group'),
});

export function toGroupOut(g: GroupRow): GroupOut {
  return { id: g.id, name: g.name, description: g.description, created_at: toIso(g.created_at), updated_at: toIso(g.updated_at) };
}

export function toMemberOut(m: MemberRow) {
  return { user_id: m.user_id, email: m.email, name: m.name, expires_at: toIsoOrNull(m.expires_at), created_at: toIso(m.created_at) };
}

export function toUserGroupOut(g: UserGroupRow & { grant: GrantNames | null }) {
  const ends = [g.membership_expires_at, g.group_expires_at].filter((t): t is number => t !== null);
  return {
    group_id: g.group_id,
    name: g.name,
    description: g.description,
    system: g.is_system === 1,
    expires_at: ends.length ? toIso(Math.min(...ends)) : null,
    grant: g.grant,
  };
}
