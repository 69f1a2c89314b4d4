/**
 * Groups whose names start with this prefix belong to the access-request engine: it
 * creates one per grant (is_system = 1) and lets it expire. The ordinary API never
 * shows or changes them, and nobody may take a name in this space.
 */
export const SYSTEM_GROUP_PREFIX = '__access_req_';

/** Case-insensitive, so a look-alike such as `__ACCESS_REQ_x` cannot pass for a grant group. */
export function isReservedGroupName(name: string): boolean {
  return name.trim().toLowerCase().startsWith(SYSTEM_GROUP_PREFIX);
}
