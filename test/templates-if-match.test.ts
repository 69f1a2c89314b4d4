import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startSecondProcess, type RunningInterim } from './helpers/interim-process.ts';
import { templateFixtures } from './helpers/template-fixtures.ts';

const BASE = '/api/v1/access-request-templates';

/**
 * Optimistic concurrency on template edits (ETag = version, PATCH with If-Match), as the
 * Terraform provider and the portal use it, plus the answers the provider relies on for a
 * template that is gone and for a group a template still uses.
 */
describeEachDialect('access-request templates: ETag and If-Match', (server) => {
  const fx = templateFixtures(server);
  let target: { appId: string; mappingId: string };
  let second: RunningInterim;

  beforeAll(async () => {
    target = await fx.appWithMapping();
    // A second process on the same database: on SQLite one process's connection would
    // serialise the concurrent PATCHes, so the race could not be lost there.
    second = await startSecondProcess(server());
  }, 60_000);
  afterAll(() => second?.stop());

  const patchWith = (client: ApiClient, id: string, body: unknown, ifMatch?: string) =>
    client.request('PATCH', `${BASE}/${id}`, body, ifMatch === undefined ? {} : { 'if-match': ifMatch });

  it('returns the version as a strong ETag on create, read and patch', async () => {
    const { admin } = server();
    const created = await admin.post(BASE, fx.templateBody(target));
    expect(created.headers.get('etag')).toBe('"1"');
    const id = created.body.id as string;
    expect((await admin.get(`${BASE}/${id}`)).headers.get('etag')).toBe('"1"');
    const patched = await patchWith(admin, id, { description: 'changed' }, '"1"');
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.version).toBe(2);
    expect(patched.headers.get('etag')).toBe('"2"');
    expect((await admin.get(`${BASE}/${id}`)).headers.get('etag')).toBe('"2"');
  });

  it('refuses a stale If-Match with 412 naming the current version, and leaves the template alone', async () => {
    const { admin } = server();
    const { id } = await fx.createTemplate(target, { name: fx.unique('stale') });
    expect((await patchWith(admin, id, { name: 'Portal edit' }, '"1"')).status).toBe(200);

    const stale = await patchWith(admin, id, { name: 'Terraform edit', allowed_durations: [30] }, '"1"');
    expect(stale.status).toBe(412);
    expect(stale.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(stale.body).toMatchObject({ status: 412, code: 'version_mismatch', current_version: 2 });
    expect(stale.body.detail).toContain('now at version 2');
    expect(stale.body.detail).toContain('If-Match names "1"');

    const now = await admin.get(`${BASE}/${id}`);
    expect(now.body).toMatchObject({ name: 'Portal edit', allowed_durations: [60], version: 2 });
    // A no-op PATCH from a stale version is refused too: the caller's view is out of date.
    expect((await patchWith(admin, id, { name: 'Portal edit' }, '"1"')).status).toBe(412);
  });

  it('applies with a current If-Match, with "*", with a list naming the current version, and without the header', async () => {
    const { admin } = server();
    const { id } = await fx.createTemplate(target);
    expect((await patchWith(admin, id, { description: 'a' }, '"1"')).body.version).toBe(2);
    expect((await patchWith(admin, id, { description: 'b' }, '*')).body.version).toBe(3);
    expect((await patchWith(admin, id, { description: 'c' }, '"1", "3"')).body.version).toBe(4);
    // Without If-Match a PATCH applies to whatever is stored, as before (curl, scripts).
    const unconditional = await patchWith(admin, id, { description: 'd' });
    expect(unconditional.status).toBe(200);
    expect(unconditional.body).toMatchObject({ description: 'd', version: 5 });
  });

  it('lets exactly one of two concurrent PATCHes from the same version win', async () => {
    const { admin, adminToken } = server();
    const other = new ApiClient(second.url).withToken(adminToken);
    for (let round = 0; round < 4; round++) {
      const { id } = await fx.createTemplate(target);
      const [a, b] = await Promise.all([
        patchWith(admin, id, { name: `first ${round}`, allowed_durations: [15] }, '"1"'),
        patchWith(other, id, { name: `second ${round}`, allowed_durations: [45] }, '"1"'),
      ]);
      expect([a.status, b.status].sort(), JSON.stringify([a.body, b.body])).toEqual([200, 412]);
      const winner = a.status === 200 ? a : b;
      const loser = a.status === 200 ? b : a;
      expect(loser.body).toMatchObject({ code: 'version_mismatch', current_version: 2 });
      const stored = await admin.get(`${BASE}/${id}`);
      expect(stored.body).toMatchObject({ name: winner.body.name, allowed_durations: winner.body.allowed_durations, version: 2 });
    }
  });

  it('answers 400 naming the header for an If-Match that is not one of our ETags', async () => {
    const { admin } = server();
    const { id } = await fx.createTemplate(target);
    for (const bad of ['1', 'W/"1"', '"abc"', '""', '"1",', '"0"']) {
      const res = await patchWith(admin, id, { description: 'never' }, bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['headers.if-match']);
    }
    expect((await admin.get(`${BASE}/${id}`)).body).toMatchObject({ description: '', version: 1 });
  });

  it('checks the caller before the version: 401 without credentials, 403 for a non-admin', async () => {
    const { id } = await fx.createTemplate(target);
    const anonymous = await patchWith(new ApiClient(server().url), id, { name: 'x' }, '"9"');
    expect(anonymous.status).toBe(401);
    const user = await fx.user();
    const notAdmin = await patchWith(user.client, id, { name: 'x' }, '"9"');
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body).not.toHaveProperty('current_version');
    expect((await user.client.get(`${BASE}/${id}`)).status).toBe(403);
  });

  it('answers a clean 404 problem for a deleted template, If-Match or not', async () => {
    const { admin } = server();
    const { id } = await fx.createTemplate(target);
    expect((await admin.delete(`${BASE}/${id}`)).status).toBe(204);
    const read = await admin.get(`${BASE}/${id}`);
    expect(read.status).toBe(404);
    expect(read.headers.get('etag')).toBeNull();
    expect(read.body).toMatchObject({ status: 404, code: 'not_found', detail: 'template not found' });
    expect((await patchWith(admin, id, { name: 'x' }, '"1"')).status).toBe(404);
  });

  it('refuses to delete a requester group a template uses, with 409 naming the template', async () => {
    const { admin } = server();
    const requesters = await fx.group();
    const approvers = await fx.group();
    const name = fx.unique('Requesters only');
    const { id } = await fx.createTemplate(target, { name, approver_group_ids: [approvers], requester_group_ids: [requesters], auto_approve: true });
    const refused = await admin.delete(`/api/v1/groups/${requesters}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'group_in_use', templates: [{ id, name }] });
    expect(refused.body.detail).toBe(`access-request templates use this group: ${name}`);
  });
});
