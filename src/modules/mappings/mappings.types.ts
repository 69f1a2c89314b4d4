import { z } from 'zod';
import { pageQuery } from '../../http/pagination.ts';
import { description, instant } from '../../http/schemas.ts';

/**
 * Claims Interim sets itself, or that carry protocol meaning a mapping must never
 * override. Compared case-insensitively so that no relying party that folds case can
 * be confused. `groups` is deliberately absent: an admin may map it explicitly.
 */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'email', 'email_verified',
  'azp', 'auth_time', 'nonce', 'acr', 'amr', 'at_hash', 'c_hash', 'sid', 'scope', 'client_id', 'cnf',
]);
const CLAIM_PATTERN = /^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/;
export const MAX_VALUE_LENGTH = 500;
export const MAX_VALUES = 100;
export const MAX_GROUPS = 100;

const claim = z
  .string()
  .regex(CLAIM_PATTERN, 'must start with a letter or _ and contain only letters, digits and _ . : - (at most 100 characters)')
  .superRefine((value, ctx) => {
    if (RESERVED_CLAIMS.has(value.toLowerCase())) ctx.addIssue({ code: 'custom', message: `"${value}" is reserved; Interim sets it itself`, input: value });
  });

const valueString = z.string().max(MAX_VALUE_LENGTH);
/** A claim value: one string, a list of strings, or a flag. Stored as JSON. */
export const mappingValue = z.union([valueString, z.array(valueString).min(1).max(MAX_VALUES), z.boolean()]);
export type MappingValue = z.infer<typeof mappingValue>;

/** A set of groups: duplicates collapse and the order is canonical, so a Terraform plan stays stable. */
const groupIds = z
  .array(z.uuid())
  .min(1)
  .max(MAX_GROUPS)
  .transform((ids) => [...new Set(ids)].sort());

export const createMappingIn = z.strictObject({
  app_id: z.uuid(),
  claim,
  value: mappingValue,
  group_ids: groupIds,
  description: description.default(''),
});
export type CreateMappingIn = z.infer<typeof createMappingIn>;

/** The application of a mapping is fixed; to move one, delete it and create another. */
export const updateMappingIn = z.strictObject({ claim, value: mappingValue, group_ids: groupIds, description }).partial();
export type UpdateMappingIn = z.infer<typeof updateMappingIn>;

export const listMappingsQuery = pageQuery.extend({ app_id: z.uuid().optional() });
export type ListMappingsQuery = z.infer<typeof listMappingsQuery>;

export const mappingOut = z.object({
  id: z.uuid(),
  app_id: z.uuid(),
  claim: z.string(),
  value: z.union([z.string(), z.array(z.string()), z.boolean()]),
  group_ids: z.array(z.uuid()),
  description: z.string(),
  created_at: instant,
  updated_at: instant,
});
export type MappingOut = z.infer<typeof mappingOut>;
