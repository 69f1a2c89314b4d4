import { expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { templateFixtures } from './helpers/template-fixtures.ts';

type FieldErrors = { field: string; message: string }[];
type Checklist = { steps: { key: string; title: string; done: boolean }[]; done: boolean };

describeEachDialect('plain field errors, member counts and the first-admin checklist', (server) => {
  const fx = templateFixtures(server);
  const errorsOf = (res: { status: number; body: { errors?: FieldErrors; code?: string } }) => {
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    return res.body.errors ?? [];
  };
  const checklist = async () => {
    const res = await server().admin.get('/api/v1/setup-checklist');
    expect(res.status).toBe(200);
    return res.body as Checklist;
  };
  const doneSteps = async () => (await checklist()).steps.filter((s) => s.done).map((s) => s.key);

  // First: the checklist of the fresh installation, before anything else in this file creates records.
  it('walks a fresh admin through the steps, each flipping as its record appears', async () => {
    const fresh = await checklist();
    expect(fresh).toEqual({
      done: false,
      steps: [
        { key: 'group', title: 'Create a group', done: false },
        { key: 'application', title: 'Register an application', done: false },
        { key: 'mapping', title: 'Add a mapping to the application', done: false },
        { key: 'template', title: 'Create a template people can request', done: false },
        { key: 'users', title: 'Invite users', done: false },
      ],
    });
    const groupId = await fx.group();
    expect(await doneSteps()).toEqual(['group']);
    const appId = await fx.app();
    expect(await doneSteps()).toEqual(['group', 'application']);
    const mappingId = await fx.mapping(appId, groupId);
    expect(await doneSteps()).toEqual(['group', 'application', 'mapping']);
    await fx.createTemplate({ appId, mappingId });
    expect(await doneSteps()).toEqual(['group', 'application', 'mapping', 'template']);
    const user = await fx.user();
    expect(await checklist()).toMatchObject({ done: true });

    // A second admin sees it too; an ordinary user and nobody do not.
    expect((await user.client.get('/api/v1/setup-checklist')).status).toBe(403);
    expect((await new ApiClient(server().url).get('/api/v1/setup-checklist')).status).toBe(401);
    const bad = await server().admin.get('/api/v1/setup-checklist?steps=all');
    expect(errorsOf(bad)).toEqual([{ field: 'querystring', message: 'Remove the unknown field: steps' }]);
  });

  it('says what to do for bad input on several endpoints, naming each field, all at once', async () => {
    const admin = server().admin;
    expect(errorsOf(await admin.post('/api/v1/groups', { name: '  ' }))).toEqual([{ field: 'name', message: 'Enter a name' }]);
    expect(errorsOf(await admin.post('/api/v1/groups', { name: 'x'.repeat(201) }))).toEqual([{ field: 'name', message: 'Use at most 200 characters' }]);
    expect(errorsOf(await admin.post('/api/v1/users', { email: 'nope', name: '', password: 'a long enough password' }))).toEqual([
      { field: 'email', message: 'Enter an email address like name@example.com' },
      { field: 'name', message: 'Enter a name' },
    ]);
    expect(errorsOf(await admin.post('/api/v1/mappings', { app_id: 'not-an-id', claim: 'role', value: 'x', group_ids: [] }))).toContainEqual({ field: 'app_id', message: 'Pick an application' });
    const template = errorsOf(await admin.post('/api/v1/access-request-templates', { name: '', app_id: '', mapping_ids: [], allowed_durations: [], approval: 'open' }));
    expect(template).toEqual(
      expect.arrayContaining([
        { field: 'name', message: 'Enter a name' },
        { field: 'app_id', message: 'Pick an application' },
        { field: 'allowed_durations', message: 'Choose at least one duration' },
      ]),
    );
    expect(template.every((e) => !/Too small|Invalid|expected/.test(e.message))).toBe(true);
    expect(errorsOf(await admin.get('/api/v1/groups?limit=0'))).toEqual([{ field: 'querystring.limit', message: 'Use a number of at least 1' }]);
    // Our own wording, written for a field, stays as it was.
    expect(errorsOf(await admin.get('/api/v1/audit-events?cursor=x'))).toEqual([{ field: 'querystring.cursor', message: 'must be a next_cursor from an earlier page' }]);
  });

  it('lists each group with how many active users are live members', async () => {
    const groupId = await fx.group(fx.unique('counted'));
    const empty = await fx.group(fx.unique('empty'));
    const [a, b, c] = [await fx.user(), await fx.user(), await fx.user()];
    await fx.addMember(groupId, a.id);
    await fx.addMember(groupId, b.id);
    await fx.addMember(groupId, c.id);
    // A disabled user is not active: not counted.
    expect((await server().admin.patch(`/api/v1/users/${c.id}`, { disabled: true })).status).toBe(200);
    const items = (await server().admin.get('/api/v1/groups?limit=200')).body.items as { id: string; member_count: number }[];
    expect(items.find((g) => g.id === groupId)?.member_count).toBe(2);
    expect(items.find((g) => g.id === empty)?.member_count).toBe(0);
  });
});
