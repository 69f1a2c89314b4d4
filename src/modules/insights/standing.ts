/**
 * Standing access (issue 14 §6): permanent group memberships that carry, through mappings,
 * a claim value that a template grants only temporarily. Such a person never needs to ask,
 * which either makes the template pointless for them or is access nobody reviews. Pure:
 * insights.service.ts reads the templates, mappings, links and permanent members.
 */

export interface TemplateGrant {
  template_id: string;
  app_id: string;
  mapping_ids: readonly string[];
}

export interface MappingFact {
  id: string;
  app_id: string;
  claim: string;
  value_json: string;
}

export interface PermanentMember {
  group_id: string;
  user_id: string;
}

export interface StandingAccess {
  template_id: string;
  claim: string;
  value: string;
  group_id: string;
  user_id: string;
}

/**
 * The values a mapping gives, as strings: a string, each item of a list, a boolean as
 * "true"/"false" (the way claims merge a boolean among strings). Malformed: none.
 */
export function valueItems(valueJson: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(valueJson);
  } catch {
    return [];
  }
  if (typeof value === 'string') return [value];
  if (typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return [...new Set(value.filter((v): v is string => typeof v === 'string'))];
  return [];
}

/**
 * Every (template, claim, value, group, user) where a permanent member of a group linked to a
 * mapping of the template's application holds a value for the same claim that one of the
 * template's mappings grants. Sorted by template, claim, value, group, user; each once.
 */
export function standingAccess(
  templates: readonly TemplateGrant[],
  mappings: readonly MappingFact[],
  links: ReadonlyArray<{ mapping_id: string; group_id: string }>,
  members: readonly PermanentMember[],
): StandingAccess[] {
  const byId = new Map(mappings.map((m) => [m.id, m]));
  const groupsOf = new Map<string, string[]>();
  for (const l of links) groupsOf.set(l.mapping_id, [...(groupsOf.get(l.mapping_id) ?? []), l.group_id]);
  const membersOf = new Map<string, string[]>();
  for (const m of members) membersOf.set(m.group_id, [...(membersOf.get(m.group_id) ?? []), m.user_id]);
  const found = new Map<string, StandingAccess>();
  for (const template of templates) {
    for (const granted of template.mapping_ids.map((id) => byId.get(id)).filter((m): m is MappingFact => m !== undefined && m.app_id === template.app_id)) {
      const grantedValues = new Set(valueItems(granted.value_json));
      for (const holder of mappings) {
        if (holder.app_id !== granted.app_id || holder.claim !== granted.claim) continue;
        const shared = valueItems(holder.value_json).filter((v) => grantedValues.has(v));
        if (shared.length === 0) continue;
        for (const groupId of groupsOf.get(holder.id) ?? []) {
          for (const userId of membersOf.get(groupId) ?? []) {
            for (const value of shared) {
              const row = { template_id: template.template_id, claim: granted.claim, value, group_id: groupId, user_id: userId };
              found.set(JSON.stringify(row), row);
            }
          }
        }
      }
    }
  }
  const key = (r: StandingAccess) => [r.template_id, r.claim, r.value, r.group_id, r.user_id];
  return [...found.values()].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    return 0;
  });
}
