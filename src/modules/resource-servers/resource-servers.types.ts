import { z } from 'zod';
import { pageQuery } from '../../http/pagination.ts';
import { description, name, searchText } from '../../http/schemas.ts';

/** Built-in entries (DESIGN "Signals"): created by migrations, never deleted, audience and scopes fixed. SSF stream management: migration 0013. */
export const SSF_RESOURCE_SERVER = { id: '01930000-0000-7000-8000-00000000055f', audience: 'urn:interim:ssf' } as const;
export const BUILT_IN_RESOURCE_SERVER_IDS: ReadonlySet<string> = new Set([SSF_RESOURCE_SERVER.id]);

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why a resource indicator cannot name a resource server, or null: RFC 8707 wants an
 * absolute URI without a fragment; Interim also wants https (http only on loopback, for
 * development) and no user info.
 */
export function audienceProblem(value: string): string | null {
  const url = URL.parse(value);
  if (!url) return 'must be an absolute URL';
  if (url.hash || value.includes('#')) return 'must not have a fragment';
  if (url.username || url.password) return 'must not carry user info';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) return 'must be https (http only on localhost)';
  return null;
}

/** Scopes that belong to OpenID Connect itself, never to a resource server. */
const OIDC_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email', 'address', 'phone']);

const audience = z
  .string()
  .max(2000)
  .superRefine((value, ctx) => {
    const problem = audienceProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });

const scope = z
  .string()
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/, 'a scope is 1–100 printable characters without spaces, quotes or backslashes')
  .refine((s) => !OIDC_SCOPES.has(s), 'OpenID Connect scopes cannot belong to a resource server');

const scopes = z
  .array(scope)
  .max(100)
  .refine((list) => new Set(list).size === list.length, 'must not list a scope twice');

const appIds = z
  .array(z.uuid())
  .max(500)
  .refine((list) => new Set(list).size === list.length, 'must not list an application twice');

export const createResourceServerIn = z.object({
  audience,
  name,
  description: description.default(''),
  scopes: scopes.default([]),
  app_ids: appIds,
});
export type CreateResourceServerIn = z.infer<typeof createResourceServerIn>;

export const updateResourceServerIn = z
  .object({ audience, name, description, scopes, app_ids: appIds })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'change at least one field');
export type UpdateResourceServerIn = z.infer<typeof updateResourceServerIn>;

export const resourceServerOut = z.object({
  id: z.uuid(),
  audience: z.string(),
  name: z.string(),
  description: z.string(),
  scopes: z.array(z.string()),
  app_ids: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});

export const listResourceServersQuery = pageQuery.extend({ q: searchText.optional().describe('part of the name or the audience, any case') });
