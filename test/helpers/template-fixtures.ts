import { expect } from 'vitest';
import { newId } from '../../src/security/ids.ts';
import { ApiClient } from './api-client.ts';
import type { TestServer } from './server.ts';

/**
 * What templates point at: applications, mappings, groups and users, made through the
 * REST API like an admin would. Only system groups go straight into the table, since
 * no ordinary endpoint may create one.
 */
export const USER_PASSWORD = 'a long enough password';

export function templateFixtures(server: () => TestServer) {
  let counter = 0;
  const unique = (prefix: string) => `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

  async function created(res: { status: number; body: { id?: string } }): Promise<string> {
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id!;
  }

  const fixtures = {
    unique,

    group: async (name = unique('group')) => created(await server().admin.post('/api/v1/groups', { name })),

    /** A group the access-request engine would own: is_system = 1, or only the reserved name. */
    systemGroup: async (opts: { flagged: boolean } = { flagged: true }) => {
      const { db, clock } = server().app.core;
      const id = newId(clock);
      const now = clock.now();
      await db
        .insertInto('groups')
        .values({ id, name: `__access_req_${unique('grant')}`, description: '', is_system: opts.flagged ? 1 : 0, expires_at: null, created_at: now, updated_at: now })
        .execute();
      return id;
    },

    app: async (name = unique('app')) => created(await server().admin.post('/api/v1/applications', { name, redirect_uris: ['https://app.example.test/callback'] })),

    mapping: async (appId: string, groupId?: string) =>
      created(await server().admin.post('/api/v1/mappings', { app_id: appId, claim: 'role', value: unique('value'), group_ids: [groupId ?? (await fixtures.group())] })),

    /** A new ordinary user, signed in with a session. */
    user: async () => {
      const email = `${unique('user')}@example.test`;
      const id = await created(await server().admin.post('/api/v1/users', { email, name: email.split('@')[0], password: USER_PASSWORD, must_change_password: false }));
      const client = new ApiClient(server().url);
      expect((await client.signIn(email, USER_PASSWORD)).status).toBe(200);
      return { id, email, client };
    },

    addMember: async (groupId: string, userId: string, expiresAt: number | null = null) => {
      const res = await server().admin.request('PUT', `/api/v1/groups/${groupId}/members/${userId}`, { expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString() });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    },

    /** An application with one mapping: the least a template needs. */
    appWithMapping: async () => {
      const appId = await fixtures.app();
      return { appId, mappingId: await fixtures.mapping(appId) };
    },

    /**
     * A valid create body for the given application and mapping, with `extra` on top:
     * an open template (said explicitly) unless `extra` names approver groups or the approval.
     */
    templateBody: (target: { appId: string; mappingId: string }, extra: Record<string, unknown> = {}) => ({
      name: unique('template'),
      app_id: target.appId,
      mapping_ids: [target.mappingId],
      allowed_durations: [60],
      ...(('approval' in extra || (Array.isArray(extra.approver_group_ids) && extra.approver_group_ids.length > 0)) ? {} : { approval: 'open' }),
      ...extra,
    }),

    createTemplate: async (target: { appId: string; mappingId: string }, extra: Record<string, unknown> = {}) => {
      const res = await server().admin.post('/api/v1/access-request-templates', fixtures.templateBody(target, extra));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { id: string; version: number; [key: string]: unknown };
    },
  };
  return fixtures;
}

export const fieldsOf = (res: { body: { errors?: { field: string }[] } }) => (res.body.errors ?? []).map((e) => e.field);
