import { expect, it } from 'vitest';
import { newId } from '../src/security/ids.ts';
import { systemClock } from '../src/clock.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { setUpAccess, validRequest } from './helpers/access-fixtures.ts';

/** The admin search boxes: users by part of email or name, groups by part of name, audit by action prefix; any case; input is text, not a pattern. */
describeEachDialect('admin search', (server) => {
  const password = 'a long enough password';
  const ids: Record<string, string> = {};

  const emailsOf = async (query: string) => {
    const res = await server().admin.get(`/api/v1/users?${query}`);
    expect(res.status, query).toBe(200);
    return res.body.items.map((u: { email: string }) => u.email).sort();
  };
  const groupsOf = async (query: string) => {
    const res = await server().admin.get(`/api/v1/groups?${query}`);
    expect(res.status, query).toBe(200);
    return res.body.items.map((g: { name: string }) => g.name).sort();
  };

  it('finds users by part of the email or name, in any case', async () => {
    const { admin } = server();
    for (const [email, name] of [
      ['bob.marley@example.test', 'Bob Marley'],
      ['roberta@music.test', 'Roberta Flack'],
      ['car_ol@example.test', 'Carol'],
      ['percy@example.test', '100% Percy'],
      ['slash@example.test', 'Back\\slash'],
    ]) {
      const res = await admin.post('/api/v1/users', { email, name, password });
      expect(res.status).toBe(201);
      ids[email!] = res.body.id;
    }
    // Today's `?email=bob` was a 400: an email filter now takes part of an address.
    expect(await emailsOf('email=bob')).toEqual(['bob.marley@example.test']);
    expect(await emailsOf('email=BOB.M')).toEqual(['bob.marley@example.test']);
    expect(await emailsOf('q=flack')).toEqual(['roberta@music.test']);
    expect(await emailsOf('q=ROBERT')).toEqual(['roberta@music.test']);
    expect(await emailsOf('q=marley%40EXAMPLE')).toEqual(['bob.marley@example.test']);
    // q looks in the address and in the name.
    expect(await emailsOf('q=bob')).toEqual(['bob.marley@example.test']);
    expect(await emailsOf('q=music')).toEqual(['roberta@music.test']);

    // LIKE wildcards and the escape character are literal text.
    expect(await emailsOf('q=_')).toEqual(['car_ol@example.test']);
    expect(await emailsOf('q=r_o')).toEqual(['car_ol@example.test']);
    expect(await emailsOf('q=%25')).toEqual(['percy@example.test']);
    expect(await emailsOf('q=0%25%20p')).toEqual(['percy@example.test']);
    expect(await emailsOf(`q=${encodeURIComponent('\\')}`)).toEqual(['slash@example.test']);
    expect(await emailsOf(`q=${encodeURIComponent('k\\s')}`)).toEqual(['slash@example.test']);
    expect(await emailsOf(`q=${encodeURIComponent('k\\\\s')}`)).toEqual([]);
    expect(await emailsOf('q=nobody-like-this')).toEqual([]);

    // A search pages like any list.
    const first = await admin.get('/api/v1/users?q=example.test&limit=2');
    expect(first.body.items).toHaveLength(2);
    const rest = await admin.get(`/api/v1/users?q=example.test&limit=10&cursor=${first.body.next_cursor}`);
    const all = [...first.body.items, ...rest.body.items].map((u: { email: string }) => u.email);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(expect.arrayContaining(['bob.marley@example.test', 'car_ol@example.test', 'percy@example.test', 'slash@example.test']));
    expect(all).not.toContain('roberta@music.test');
  });

  it('finds groups by part of the name, in any case, and never a system group', async () => {
    const { admin, app } = server();
    for (const name of ['Prod-Admins', 'prod_readers', 'staging', '50% of prod']) expect((await admin.post('/api/v1/groups', { name })).status).toBe(201);
    const now = Date.now();
    await app.core.db.insertInto('groups').values({ id: newId(systemClock), name: '__access_req_prod', description: '', is_system: 1, expires_at: now + 60_000, created_at: now, updated_at: now }).execute();

    // Today's `?name=prod` found nothing unless a group was named exactly "prod".
    expect(await groupsOf('name=prod')).toEqual(['50% of prod', 'Prod-Admins', 'prod_readers']);
    expect(await groupsOf('name=PROD-a')).toEqual(['Prod-Admins']);
    expect(await groupsOf('name=d_r')).toEqual(['prod_readers']);
    expect(await groupsOf('name=_')).toEqual(['prod_readers']);
    expect(await groupsOf('name=%25')).toEqual(['50% of prod']);
    expect(await groupsOf('name=__access_req_')).toEqual([]);
    expect(await groupsOf('name=STAGING')).toEqual(['staging']);
    // q looks in the name and the description.
    expect((await admin.post('/api/v1/groups', { name: 'oncall', description: 'Wakes up for PAGES' })).status).toBe(201);
    expect(await groupsOf('q=pages')).toEqual(['oncall']);
    expect(await groupsOf('q=STAG')).toEqual(['staging']);
    expect(await groupsOf('q=__access')).toEqual([]);
  });

  it('filters the audit trail by the start of the action, in any case, in the list and the export', async () => {
    const { admin } = server();
    const actionsOf = async (query: string) => {
      const res = await admin.get(`/api/v1/audit-events?${query}&limit=200`);
      expect(res.status, query).toBe(200);
      return [...new Set(res.body.items.map((e: { action: string }) => e.action))].sort();
    };
    expect(await actionsOf('action=USER.')).toEqual(['user.created']);
    expect(await actionsOf('action=group.')).toEqual(['group.created']);
    expect(await actionsOf('action=Group.Created')).toEqual(['group.created']);
    // A prefix, not a part: "created" starts no action.
    expect(await actionsOf('action=created')).toEqual([]);
    // `_` is literal: it would otherwise match the dot of "user.".
    expect(await actionsOf('action=user_')).toEqual([]);
    expect(await actionsOf('action=%25')).toEqual([]);

    const ndjson = await admin.get('/api/v1/audit-events/export?format=ndjson&action=GROUP.');
    expect(ndjson.status).toBe(200);
    const lines = String(ndjson.body).trim().split('\n').map((l) => JSON.parse(l) as { action: string });
    expect(lines.length).toBe(5);
    expect(lines.every((e) => e.action === 'group.created')).toBe(true);
  });

  it('finds applications, templates, scripts, event actions, resource servers and deliveries by part of their text, in any case', async () => {
    const { admin, app } = server();
    const namesOf = async (path: string, field = 'name') => {
      const res = await admin.get(path);
      expect(res.status, path).toBe(200);
      return res.body.items.map((x: Record<string, string>) => x[field]).sort();
    };
    const created = async (path: string, body: Record<string, unknown>) => {
      const res = await admin.post(path, body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { id: string; name: string };
    };

    const billing = await created('/api/v1/applications', { name: 'Billing_Portal', redirect_uris: ['http://127.0.0.1:9/cb'], first_party: true });
    await created('/api/v1/applications', { name: '100% Wiki', redirect_uris: ['http://127.0.0.1:9/cb'], first_party: true });
    expect(await namesOf('/api/v1/applications?q=billing')).toEqual(['Billing_Portal']);
    expect(await namesOf('/api/v1/applications?q=G_P')).toEqual(['Billing_Portal']);
    expect(await namesOf('/api/v1/applications?q=%25')).toEqual(['100% Wiki']);
    // The client id is the application's id: part of it finds it too.
    expect(await namesOf(`/api/v1/applications?q=${billing.id.slice(-12).toUpperCase()}`)).toEqual(['Billing_Portal']);

    const holders = await created('/api/v1/groups', { name: 'billing holders' });
    const mapping = await created('/api/v1/mappings', { app_id: billing.id, claim: 'role', value: 'billing-admin', group_ids: [holders.id] });
    const template = (name: string, description: string) =>
      created('/api/v1/access-request-templates', { name, description, app_id: billing.id, mapping_ids: [mapping.id], allowed_durations: [60], approver_group_ids: [holders.id] });
    await template('Invoices read', 'See the ledger');
    await template('Refunds', 'Issue REFUNDS up to 500 EUR');
    expect(await namesOf('/api/v1/access-request-templates?q=INVOICE')).toEqual(['Invoices read']);
    expect(await namesOf('/api/v1/access-request-templates?q=ledger')).toEqual(['Invoices read']);
    expect(await namesOf('/api/v1/access-request-templates?q=refunds%20up')).toEqual(['Refunds']);
    expect(await namesOf('/api/v1/access-request-templates?q=_')).toEqual([]);

    await created('/api/v1/scripts', { name: 'Provision LDAP', source: 'export default async () => ({ ok: true })' });
    await created('/api/v1/scripts', { name: 'notify_pager', source: 'export default async () => ({ ok: true })' });
    expect(await namesOf('/api/v1/scripts?q=ldap')).toEqual(['Provision LDAP']);
    expect(await namesOf('/api/v1/scripts?q=y_p')).toEqual(['notify_pager']);

    await created('/api/v1/event-actions', { name: 'CMDB sync', event_types: ['access_request.approved', 'access_request.revoked'], kind: 'webhook', config: { url: 'https://hooks.example.test/cmdb' } });
    const feed = await created('/api/v1/event-actions', { name: 'Audit feed', event_types: ['access_request.submitted'], kind: 'webhook', config: { url: 'https://hooks.example.test/feed' } });
    expect(await namesOf('/api/v1/event-actions?q=cmdb')).toEqual(['CMDB sync']);
    expect(await namesOf('/api/v1/event-actions?q=REVOKED')).toEqual(['CMDB sync']);
    expect(await namesOf('/api/v1/event-actions?q=submitted')).toEqual(['Audit feed']);
    expect(await namesOf('/api/v1/event-actions?q=access_request')).toEqual(['Audit feed', 'CMDB sync']);

    await created('/api/v1/resource-servers', { audience: 'https://api.payments.test', name: 'Payments API', app_ids: [] });
    expect(await namesOf('/api/v1/resource-servers?q=PAYMENTS')).toEqual(['Payments API']);
    expect(await namesOf('/api/v1/resource-servers?q=api.payments.t')).toEqual(['Payments API']);
    expect(await namesOf('/api/v1/resource-servers?q=nothing')).toEqual([]);

    // Deliveries: by channel, target or event type.
    const s = await setUpAccess(server());
    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
    expect(submitted.status).toBe(201);
    await app.runWorkerOnce();
    const deliveries = async (query: string) => {
      const res = await admin.get(`/api/v1/deliveries?${query}&limit=200`);
      expect(res.status, query).toBe(200);
      return res.body.items as { channel: string; target: string; event_type: string }[];
    };
    // An e-mail's target holds the address; an action's, the action.
    const toApprover = await deliveries(`q=${encodeURIComponent(s.approver.email.toUpperCase())}`);
    expect(toApprover.length).toBeGreaterThan(0);
    expect(toApprover.every((d) => d.channel === 'email' && d.target.endsWith(s.approver.email))).toBe(true);
    const webhooks = await deliveries('q=WEBHOOK');
    expect(webhooks.length).toBeGreaterThan(0);
    expect(webhooks.every((d) => d.channel === 'webhook')).toBe(true);
    expect(webhooks.map((d) => d.target)).toContain(`action:${feed.id}`);
    expect((await deliveries(`q=${feed.id.slice(-10)}`)).map((d) => d.target)).toEqual([`action:${feed.id}`]);
    const ofSubmission = await deliveries('q=submitted');
    expect(ofSubmission.length).toBeGreaterThan(0);
    expect(ofSubmission.every((d) => d.event_type === 'access_request.submitted')).toBe(true);
    expect(await deliveries('q=no-such-target')).toEqual([]);
  });

  it('refuses bad search input with a 400 naming the parameter', async () => {
    const { admin } = server();
    const long = 'x'.repeat(201);
    for (const [path, field] of [
      [`/api/v1/users?q=${long}`, 'querystring.q'],
      ['/api/v1/users?q=%20%20', 'querystring.q'],
      [`/api/v1/users?email=${long}`, 'querystring.email'],
      [`/api/v1/groups?name=${long}`, 'querystring.name'],
      [`/api/v1/audit-events?action=${long}`, 'querystring.action'],
      ...['/api/v1/groups', '/api/v1/applications', '/api/v1/access-request-templates', '/api/v1/scripts', '/api/v1/event-actions', '/api/v1/deliveries', '/api/v1/resource-servers', '/api/v1/audit-events'].flatMap(
        (list) => [
          [`${list}?q=${long}`, 'querystring.q'],
          [`${list}?q=`, 'querystring.q'],
          [`${list}?q=%20`, 'querystring.q'],
        ],
      ),
    ]) {
      const res = await admin.get(path!);
      expect(res.status, path).toBe(400);
      expect(res.body.code, path).toBe('validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field), path).toEqual([field]);
    }
  });

  it('lets only admins search: 401 without a caller, 403 for a signed-in non-admin', async () => {
    const anonymous = new ApiClient(server().url);
    const member = new ApiClient(server().url);
    expect((await member.signIn('bob.marley@example.test', password)).status).toBe(200);
    for (const path of [
      '/api/v1/users?q=bob',
      '/api/v1/groups?name=prod',
      '/api/v1/groups?q=prod',
      '/api/v1/audit-events?action=user.',
      '/api/v1/audit-events?q=bob',
      '/api/v1/audit-events/export?format=csv&q=bob',
      '/api/v1/applications?q=billing',
      '/api/v1/access-request-templates?q=refunds',
      '/api/v1/scripts?q=ldap',
      '/api/v1/event-actions?q=cmdb',
      '/api/v1/deliveries?q=webhook',
      '/api/v1/resource-servers?q=payments',
    ]) {
      expect((await anonymous.get(path)).status, path).toBe(401);
      expect((await member.get(path)).status, path).toBe(403);
    }
  });
});
