import { expect } from 'vitest';
import { newId } from '../../src/security/ids.ts';
import { randomSecret, sha256 } from '../../src/security/tokens.ts';
import type { TestServer } from './server.ts';

/**
 * Fixtures for OIDC tests, written straight into the real database of a running test
 * server (users go through the API, which hashes passwords and audits).
 */
export const PASSWORD = 'a long enough password';

export async function createUser(server: TestServer, email: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await server.admin.post('/api/v1/users', { email, name: email.split('@')[0], password: PASSWORD, must_change_password: false, ...extra });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

export async function createGroup(server: TestServer, name: string, expiresAt: number | null = null): Promise<string> {
  const now = Date.now();
  const id = newId({ now: () => now });
  await server.app.core.db.insertInto('groups').values({ id, name, description: '', is_system: 0, expires_at: expiresAt, created_at: now, updated_at: now }).execute();
  return id;
}

export async function addMember(server: TestServer, groupId: string, userId: string, expiresAt: number | null = null): Promise<void> {
  await server.app.core.db.insertInto('memberships').values({ group_id: groupId, user_id: userId, expires_at: expiresAt, created_at: Date.now() }).execute();
}

export interface AppFixture {
  id: string;
  secret: string | undefined;
  redirectUri: string;
}

export interface AppOptions {
  name?: string;
  authMethod?: 'client_secret_basic' | 'client_secret_post' | 'none';
  grantTypes?: string[];
  alg?: 'EdDSA' | 'ES256' | 'RS256';
  accessTtl?: number;
  idTtl?: number;
  refreshTtl?: number;
  firstParty?: boolean;
  redirectUri?: string;
  /** Resource servers the app may ask tokens for; the shared test API by default. */
  resources?: string[];
}

/** The resource indicator the OIDC tests ask tokens for. */
export const TEST_API = 'https://api.example.test';

/** Registers `audience` as a resource server (once) and lets the application ask for it. */
export async function allowResource(server: TestServer, audience: string, appId: string): Promise<void> {
  const { db } = server.app.core;
  const now = Date.now();
  await db
    .insertInto('resource_servers')
    .values({ id: newId({ now: () => now }), audience, name: audience, description: '', scopes: '[]', created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('audience').doNothing())
    .execute();
  const { id } = await db.selectFrom('resource_servers').select('id').where('audience', '=', audience).executeTakeFirstOrThrow();
  await db.insertInto('resource_server_apps').values({ resource_server_id: id, app_id: appId }).execute();
}

export async function createApp(server: TestServer, opts: AppOptions = {}): Promise<AppFixture> {
  const now = Date.now();
  const id = newId({ now: () => now });
  const authMethod = opts.authMethod ?? 'client_secret_basic';
  const secret = authMethod === 'none' ? undefined : randomSecret('cs_');
  const redirectUri = opts.redirectUri ?? 'http://127.0.0.1:9/callback';
  await server.app.core.db
    .insertInto('applications')
    .values({
      id,
      name: opts.name ?? `Test App ${id}`,
      description: '',
      client_secret_hash: secret ? sha256(secret) : null,
      token_endpoint_auth_method: authMethod,
      redirect_uris: JSON.stringify([redirectUri]),
      post_logout_redirect_uris: JSON.stringify(['http://127.0.0.1:9/signed-out']),
      grant_types: JSON.stringify(opts.grantTypes ?? ['authorization_code', 'refresh_token']),
      id_token_signed_response_alg: opts.alg ?? 'EdDSA',
      access_token_ttl_secs: opts.accessTtl ?? 3600,
      id_token_ttl_secs: opts.idTtl ?? 3600,
      refresh_token_ttl_secs: opts.refreshTtl ?? 30 * 86400,
      first_party: opts.firstParty === false ? 0 : 1,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    })
    .execute();
  for (const audience of opts.resources ?? [TEST_API]) await allowResource(server, audience, id);
  return { id, secret, redirectUri };
}

export async function createMapping(server: TestServer, appId: string, claim: string, value: unknown, groupIds: string[]): Promise<string> {
  const now = Date.now();
  const id = newId({ now: () => now });
  await server.app.core.db.insertInto('mappings').values({ id, app_id: appId, claim, value_json: JSON.stringify(value), description: '', created_at: now, updated_at: now }).execute();
  for (const groupId of groupIds) await server.app.core.db.insertInto('mapping_groups').values({ mapping_id: id, group_id: groupId }).execute();
  return id;
}

/** A user with a permanent group (claim `team`) and a temporary one (claim `roles`, and a boolean), mapped for one app. */
export async function userWithMappedClaims(server: TestServer, email: string, tempExpiresAt: number, appOpts: AppOptions = {}) {
  const userId = await createUser(server, email);
  const app = await createApp(server, appOpts);
  const tag = email.split('@')[0];
  const staff = await createGroup(server, `staff-${tag}`);
  const oncall = await createGroup(server, `oncall-${tag}`);
  await addMember(server, staff, userId);
  await addMember(server, oncall, userId, tempExpiresAt);
  await createMapping(server, app.id, 'team', 'platform', [staff]);
  await createMapping(server, app.id, 'roles', ['viewer'], [staff]);
  await createMapping(server, app.id, 'roles', ['admin', 'viewer'], [oncall]);
  await createMapping(server, app.id, 'break_glass', true, [oncall]);
  return { userId, app };
}
