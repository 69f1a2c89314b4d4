import { beforeAll, expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { createPerson, PASSWORD, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

interface NamedEvent {
  seq: number;
  action: string;
  actor_type: string;
  actor_id: string | null;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  actor: { id: string; email: string; name: string; deleted: boolean } | null;
  target: { type: string; id: string; name: string; deleted: boolean } | null;
}

/** Names instead of ids: the audit list names actors and targets (deleted ones too), searches them, and the CSV carries them; a user's grants are named by their request. */
describeEachDialect('audit names and user grants by name', (server) => {
  let s: AccessSetup;
  let requestId: string;
  let templateName: string;
  const tempAdmin = { id: '', email: 'Temp.Admin@Example.test', name: 'Tempo Rary' };
  let madeGroupId = '';
  let goneGroupId = '';

  const events = async (query: string): Promise<NamedEvent[]> => {
    const res = await server().admin.get(`/api/v1/audit-events?${query}${query ? '&' : ''}limit=500`);
    expect(res.status, query).toBe(200);
    return res.body.items;
  };

  beforeAll(async () => {
    const { admin } = server();
    s = await setUpAccess(server());
    templateName = (await admin.get(`/api/v1/access-request-templates/${s.templateId}`)).body.name;
    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
    expect(submitted.status).toBe(201);
    requestId = submitted.body.id;
    expect((await s.approver.client.post(`/api/v1/access-requests/${requestId}/approve`, {})).status).toBe(200);
    // The worker sends the notices (this server has no mail relay: they dead-letter, an audited event).
    await server().app.runWorkerOnce();

    // An admin who makes a group and is then deleted: the log keeps naming them.
    const created = await admin.post('/api/v1/users', { email: tempAdmin.email, name: tempAdmin.name, password: PASSWORD, is_admin: true, must_change_password: false });
    expect(created.status).toBe(201);
    tempAdmin.id = created.body.id;
    const client = new ApiClient(server().url);
    expect((await client.signIn(tempAdmin.email.toLowerCase(), PASSWORD)).status).toBe(200);
    const made = await client.post('/api/v1/groups', { name: 'Made by temp' });
    expect(made.status).toBe(201);
    madeGroupId = made.body.id;
    expect((await admin.request('DELETE', `/api/v1/users/${tempAdmin.id}`)).status).toBe(204);

    // A group that is gone: named by its id, marked deleted.
    const gone = await admin.post('/api/v1/groups', { name: 'Short-lived' });
    goneGroupId = gone.body.id;
    expect((await admin.request('DELETE', `/api/v1/groups/${goneGroupId}`)).status).toBe(204);
  });

  it('names the actor and the target of each event, deleted ones included', async () => {
    const all = await events('');
    const submitted = all.find((e) => e.action === 'access_request.submitted' && e.target_id === requestId)!;
    expect(submitted.actor).toEqual({ id: s.requester.id, email: s.requester.email, name: 'requester', deleted: false });
    // A request is named by its template.
    expect(submitted.target).toEqual({ type: 'access_request', id: requestId, name: templateName, deleted: false });

    const approved = all.find((e) => e.action === 'access_request.approved' && e.target_id === requestId)!;
    expect(approved.actor).toMatchObject({ id: s.approver.id, email: s.approver.email, name: 'approver' });

    const made = all.find((e) => e.action === 'group.created' && e.target_id === madeGroupId)!;
    expect(made.actor).toEqual({ id: tempAdmin.id, email: tempAdmin.email.toLowerCase(), name: tempAdmin.name, deleted: true });
    expect(made.target).toEqual({ type: 'group', id: madeGroupId, name: 'Made by temp', deleted: false });

    const deletedUser = all.find((e) => e.action === 'user.deleted' && e.target_id === tempAdmin.id)!;
    expect(deletedUser.target).toMatchObject({ type: 'user', id: tempAdmin.id, deleted: true });
    expect(deletedUser.target!.name).toContain(tempAdmin.name);

    const goneCreated = all.find((e) => e.action === 'group.created' && e.target_id === goneGroupId)!;
    expect(goneCreated.target).toEqual({ type: 'group', id: goneGroupId, name: `${goneGroupId} (deleted)`, deleted: true });

    const appCreated = all.find((e) => e.action === 'application.created' && e.target_id === s.appId)!;
    expect(appCreated.target).toMatchObject({ type: 'application', id: s.appId, deleted: false });
    expect(appCreated.target!.name).toMatch(/^prod-db-/);

    // A delivery is named by its channel and target.
    const deadLetters = all.filter((e) => e.action === 'delivery.dead_lettered');
    expect(deadLetters.length).toBeGreaterThan(0);
    for (const e of deadLetters) expect(e.target!.name).toMatch(/^email: (approver|escalation|requester|admin)[a-z_]*:.+@example\.test$/);

    // The system has no actor object.
    for (const e of all.filter((x) => x.actor_type === 'system')) expect(e.actor).toBeNull();
  });

  it("searches by part of the actor's email or name, the target's name or the action, in any case", async () => {
    const seqs = (list: NamedEvent[]) => list.map((e) => e.seq);
    const byActorEmail = await events('q=TEMP.ADMIN%40');
    expect(byActorEmail.length).toBeGreaterThan(0);
    expect(byActorEmail.every((e) => e.actor_id === tempAdmin.id || e.target_id === tempAdmin.id)).toBe(true);
    expect(seqs(byActorEmail)).toEqual(seqs(await events('q=tempo%20rar')));

    const byTemplate = await events(`q=${encodeURIComponent(templateName.toUpperCase())}`);
    expect(byTemplate.some((e) => e.action === 'access_request.approved' && e.target_id === requestId)).toBe(true);
    expect(byTemplate.some((e) => e.action === 'template.created' && e.target_id === s.templateId)).toBe(true);

    const byGroup = await events('q=made%20BY');
    expect(byGroup.map((e) => e.target_id)).toEqual([madeGroupId]);

    expect((await events('q=group.del')).every((e) => e.action === 'group.deleted')).toBe(true);
    // The search is text: `%` and `_` are literal.
    expect(await events('q=%25')).toEqual([]);
    expect(await events('q=made_by')).toEqual([]);
    // With other filters, all must hold.
    expect((await events(`q=made&actor_id=${s.requester.id}`)).length).toBe(0);
  });

  it('exports CSV with actor emails and target names, and NDJSON as the bare chain rows', async () => {
    const { admin } = server();
    const csv = await admin.get('/api/v1/audit-events/export?format=csv&q=made%20by');
    expect(csv.status).toBe(200);
    const [header, row, rest] = String(csv.body).split('\r\n');
    expect(header!.split(',').slice(-3)).toEqual(['actor_email', 'actor_name', 'target_name']);
    expect(row).toContain(`,${tempAdmin.email.toLowerCase()},${tempAdmin.name},Made by temp`);
    expect(rest).toBe('');

    const system = await admin.get('/api/v1/audit-events/export?format=csv&action=access_request.approved');
    const approvedRow = String(system.body).split('\r\n')[1]!;
    expect(approvedRow.endsWith(`,${s.approver.email},approver,${templateName}`)).toBe(true);

    const ndjson = await admin.get('/api/v1/audit-events/export?format=ndjson&q=made%20by');
    const lines = String(ndjson.body).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(Object.keys(lines[0]!)).not.toContain('actor');
    expect(Object.keys(lines[0]!)).not.toContain('target');
  });

  it("names a user's temporary grants by template and application, with their request", async () => {
    const { admin } = server();
    const groups = await admin.get(`/api/v1/users/${s.requester.id}/groups`);
    expect(groups.status).toBe(200);
    const grant = groups.body.items.find((g: { system: boolean }) => g.system);
    const app = await admin.get(`/api/v1/applications/${s.appId}`);
    expect(grant.grant).toEqual({ request_id: requestId, template_id: s.templateId, template_name: templateName, application_id: s.appId, application_name: app.body.name });
    for (const g of groups.body.items.filter((x: { system: boolean }) => !x.system)) expect(g.grant).toBeNull();
    // The user sees the same about themselves; another user sees nothing.
    const own = await s.requester.client.get(`/api/v1/users/${s.requester.id}/groups`);
    expect(own.body.items.find((g: { system: boolean }) => g.system).grant.template_name).toBe(templateName);
    expect((await s.outsider.client.get(`/api/v1/users/${s.requester.id}/groups`)).status).toBe(404);
    const other = await createPerson(server(), 'plain');
    expect((await other.client.get('/api/v1/audit-events?q=made')).status).toBe(403);
  });
});
