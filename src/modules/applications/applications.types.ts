import { z } from 'zod';
import { pageQuery } from '../../http/pagination.ts';
import { description, instant, name, searchText } from '../../http/schemas.ts';
import { redirectUriProblem } from './applications.rules.ts';
import { backchannelLogoutUri } from './backchannel-logout.types.ts';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export const SIGNING_ALGS = ['EdDSA', 'ES256', 'RS256'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export type AuthMethod = (typeof AUTH_METHODS)[number];
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** Client secrets start with this, so secret scanners and people can tell one on sight. */
export const CLIENT_SECRET_PREFIX = 'ics_';
const MAX_REDIRECT_URIS = 50;

const redirectUri = z
  .string()
  .max(2000)
  .superRefine((value, ctx) => {
    const problem = redirectUriProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });

const redirectUris = z
  .array(redirectUri)
  .max(MAX_REDIRECT_URIS)
  .refine((uris) => new Set(uris).size === uris.length, 'must not list a URI twice');

const grantTypes = z
  .array(z.enum(GRANT_TYPES))
  .min(1)
  .refine((types) => new Set(types).size === types.length, 'must not list a grant type twice');

const secs = (min: number, max: number) => z.number().int().min(min).max(max);

/** The settings an admin controls. Create fills the defaults; PATCH changes any subset. */
const settings = {
  name,
  description,
  redirect_uris: redirectUris,
  post_logout_redirect_uris: redirectUris,
  grant_types: grantTypes,
  token_endpoint_auth_method: z.enum(AUTH_METHODS),
  id_token_signed_response_alg: z.enum(SIGNING_ALGS),
  access_token_ttl_secs: secs(60, 86_400),
  id_token_ttl_secs: secs(60, 86_400),
  refresh_token_ttl_secs: secs(300, 31_536_000),
  first_party: z.boolean(),
  ...backchannelLogoutUri.settings,
};

export const createApplicationIn = z.strictObject({
  ...settings,
  description: settings.description.default(''),
  redirect_uris: settings.redirect_uris.default([]),
  post_logout_redirect_uris: settings.post_logout_redirect_uris.default([]),
  grant_types: settings.grant_types.default(['authorization_code', 'refresh_token']),
  token_endpoint_auth_method: settings.token_endpoint_auth_method.default('client_secret_basic'),
  id_token_signed_response_alg: settings.id_token_signed_response_alg.default('EdDSA'),
  access_token_ttl_secs: settings.access_token_ttl_secs.default(3600),
  id_token_ttl_secs: settings.id_token_ttl_secs.default(3600),
  refresh_token_ttl_secs: settings.refresh_token_ttl_secs.default(1_209_600),
  first_party: settings.first_party.default(false),
  ...backchannelLogoutUri.defaults,
});
export type CreateApplicationIn = z.infer<typeof createApplicationIn>;

export const updateApplicationIn = z.strictObject(settings).partial();
export type UpdateApplicationIn = z.infer<typeof updateApplicationIn>;

/**
 * `name` finds applications by part of their name, in any case, as the groups list does.
 * A client that needs one exact name (the Terraform data source) filters the answer.
 */
export const listApplicationsQuery = pageQuery.extend({
  q: searchText.optional().describe('part of the name or the client id, any case'),
  name: searchText.optional().describe('part of the application name, any case'),
});
export type ListApplicationsQuery = z.infer<typeof listApplicationsQuery>;

export const applicationOut = z.object({
  id: z.uuid(),
  /** The OAuth client_id: the application's id. */
  client_id: z.uuid(),
  name: z.string(),
  description: z.string(),
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  grant_types: z.array(z.enum(GRANT_TYPES)),
  token_endpoint_auth_method: z.enum(AUTH_METHODS),
  id_token_signed_response_alg: z.enum(SIGNING_ALGS),
  access_token_ttl_secs: z.number().int(),
  id_token_ttl_secs: z.number().int(),
  refresh_token_ttl_secs: z.number().int(),
  first_party: z.boolean(),
  ...backchannelLogoutUri.out,
  created_at: instant,
  updated_at: instant,
});
export type ApplicationOut = z.infer<typeof applicationOut>;

/** Create, rotation and a switch to a confidential client carry the new secret: the only time it is shown. */
export const applicationWithSecretOut = applicationOut.extend({ client_secret: z.string().optional() });
