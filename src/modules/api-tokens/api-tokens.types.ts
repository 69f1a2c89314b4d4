import { z } from 'zod';
import { pageQuery } from '../../http/pagination.ts';
import { instant, name } from '../../http/schemas.ts';

/** Every API token starts with this, so secret scanners and people can tell one on sight. */
export const API_TOKEN_PREFIX = 'itk_';

export const apiTokenOut = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  /** The owner's email, so an admin's list of everyone's tokens reads at a glance. */
  user_email: z.string(),
  name: z.string(),
  expires_at: instant.nullable(),
  last_used_at: instant.nullable(),
  created_at: instant,
});
export type ApiTokenOut = z.infer<typeof apiTokenOut>;

/** Only the create response carries the token itself; it is never shown again. */
export const createdApiTokenOut = apiTokenOut.extend({ token: z.string() });

export const createApiTokenIn = z.strictObject({
  name,
  /**
   * Absent or null: the token never expires, which only an owner without a lifetime
   * limit may have (GET /api/v1/settings/api-tokens; by default admins only).
   */
  expires_at: instant.nullable().optional(),
  /** Admins may create a token for someone else. */
  user_id: z.uuid().optional(),
});
export type CreateApiTokenIn = z.infer<typeof createApiTokenIn>;

export const listApiTokensQuery = pageQuery.extend({
  user_id: z.uuid().optional(),
  /** Admins only: everyone's tokens. */
  all: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});
export type ListApiTokensQuery = z.infer<typeof listApiTokensQuery>;
