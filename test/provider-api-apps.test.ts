import { expect, it } from 'vitest';
import { createGroup, createPerson } from './helpers/access-fixtures.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

/**
 * What the Terraform provider's application, app mapping, script, script secret and
 * event action resources rely on: a lookup by name for the application data source,
 * reads that return exactly what was written, secrets that are never read back, and a
 * clean 404 for every read, change and delete of an object that is gone (so a plan
 * proposes re-creation instead of failing).
 */
describeEachDialect('the API under the Terraform provider: applications, mappings, scripts, event actions', (server) => {
  let counter = 0;
  const unique = (prefix: string) => `${prefix}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  const redirect = { redirect_uris: ['https://app.example.test/cb'] };

  async function created(path: string, body: unknown) {
    const res = await server().admin.post(path, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as Record<string, unknown> & { id: string };
  }

  const namesOf = async (query: string) => {
    const res = await server().admin.get(`/api/v1/applications?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.items as { name: string }[]).map((a) => a.name).sort();
  };

  it('finds applications by part of their name, in any case, never a deleted one, page by page', async () => {
    const tag = unique('lookup');
    for (const suffix of ['Prod DB', 'prod-api', 'Staging']) await created('/api/v1/applications', { name: `${tag} ${suffix}`, ...redirect });
    const gone = await created('/api/v1/applications', { name: `${tag} prod old`, ...redirect });
    expect((await server().admin.delete(`/api/v1/applications/${gone.id}`)).status).toBe(204);

    expect(await namesOf(`name=${encodeURIComponent(`${tag} PROD`)}`)).toEqual([`${tag} Prod DB`, `${tag} prod-api`]);
    expect(await namesOf(`name=${encodeURIComponent(`${tag} staging`)}`)).toEqual([`${tag} Staging`]);
    // `%` and `_` are text, not patterns.
    expect(await namesOf(`name=${encodeURIComponent(`${tag}%`)}`)).toEqual([]);

    const first = await server().admin.get(`/api/v1/applications?name=${encodeURIComponent(tag)}&limit=2`);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const rest = await server().admin.get(`/api/v1/applications?name=${encodeURIComponent(tag)}&limit=2&cursor=${first.body.next_cursor}`);
    expect(rest.body.items).toHaveLength(1);
    expect(rest.body.next_cursor).toBeNull();
  });

  it('refuses a bad name filter with a 400 naming it, and the lookup to anyone but an admin', async () => {
    for (const query of ['name=%20%20', `name=${'x'.repeat(201)}`]) {
      const res = await server().admin.get(`/api/v1/applications?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['querystring.name']);
    }
    const app = await created('/api/v1/applications', { name: unique('secretive'), ...redirect });
    const anonymous = await new ApiClient(server().url).get(`/api/v1/applications?name=${encodeURIComponent(String(app.name))}`);
    expect(anonymous.status).toBe(401);
    const member = await createPerson(server(), 'not-admin');
    const refused = await member.client.get(`/api/v1/applications?name=${encodeURIComponent(String(app.name))}`);
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).not.toContain(app.id);
  });

  it('answers 404 not_found to every read, change and delete of a deleted object', async () => {
    const { admin } = server();
    const group = await createGroup(server(), 'holders');
    const app = await created('/api/v1/applications', { name: unique('doomed'), ...redirect });
    const mapping = await created('/api/v1/mappings', { app_id: app.id, claim: 'roles', value: ['reader'], group_ids: [group] });
    const secret = await created('/api/v1/script-secrets', { name: unique('TOKEN'), value: 'sk_0123456789' });
    const script = await created('/api/v1/scripts', { name: unique('script'), source: 'return 1', secret_ids: [secret.id] });
    const rule = { enabled: true, event_types: ['access_request.approved'] };
    const webhook = await created('/api/v1/event-actions', { ...rule, name: unique('hook'), kind: 'webhook', config: { url: 'https://hooks.example.com/in' } });
    const slack = await created('/api/v1/event-actions', { ...rule, name: unique('slack'), kind: 'slack', config: { webhook_url: 'https://hooks.slack.com/services/T0/B0/x' } });
    const email = await created('/api/v1/event-actions', { ...rule, name: unique('mail'), kind: 'email', config: { recipients: 'requester' } });
    const scripted = await created('/api/v1/event-actions', { ...rule, name: unique('run'), kind: 'script', config: { script_id: script.id } });

    // In an order each delete is allowed in: event actions before the script one runs,
    // the mapping before its application (which would take the mapping with it).
    const objects: [string, Record<string, unknown>][] = [
      ...[webhook, slack, email, scripted].map((a): [string, Record<string, unknown>] => [`/api/v1/event-actions/${a.id}`, { enabled: false }]),
      [`/api/v1/scripts/${script.id}`, { source: 'return 2' }],
      [`/api/v1/script-secrets/${secret.id}`, { value: 'another value' }],
      [`/api/v1/mappings/${mapping.id}`, { description: 'x' }],
      [`/api/v1/applications/${app.id}`, { description: 'x' }],
    ];
    for (const [path] of objects) expect((await admin.delete(path)).status, path).toBe(204);
    for (const [path, patch] of objects) {
      for (const res of [await admin.get(path), await admin.patch(path, patch), await admin.delete(path)]) {
        expect(res.status, path).toBe(404);
        expect(res.body.code, path).toBe('not_found');
      }
    }
    expect((await admin.post(`/api/v1/applications/${app.id}/client-secret`)).status).toBe(404);
    expect((await admin.post(`/api/v1/event-actions/${webhook.id}/rotate-secret`)).status).toBe(404);
  });

  it('reads back every attribute that was written, and never a secret', async () => {
    const { admin } = server();
    const settings = {
      name: unique('full'),
      description: 'every setting',
      redirect_uris: ['https://app.example.test/cb', 'http://localhost:8080/cb'],
      post_logout_redirect_uris: ['https://app.example.test/bye'],
      grant_types: ['authorization_code', 'client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
      access_token_ttl_secs: 600,
      id_token_ttl_secs: 900,
      refresh_token_ttl_secs: 86_400,
      first_party: true,
    };
    const app = await created('/api/v1/applications', settings);
    expect(app.client_secret).toMatch(/^ics_/);
    const read = await admin.get(`/api/v1/applications/${app.id}`);
    expect(read.body).toMatchObject({ ...settings, id: app.id, client_id: app.id });
    expect(read.body).not.toHaveProperty('client_secret');
    const rotated = await admin.post(`/api/v1/applications/${app.id}/client-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.client_secret).toMatch(/^ics_/);
    expect(rotated.body.client_secret).not.toBe(app.client_secret);

    const secret = await created('/api/v1/script-secrets', { name: unique('KEY'), value: 'the-value-itself' });
    const secretRead = await admin.get(`/api/v1/script-secrets/${secret.id}`);
    expect(JSON.stringify([secret, secretRead.body])).not.toContain('the-value-itself');

    // A webhook URL comes back exactly as written (no added slash, no folded case).
    const url = 'https://Hooks.Example.com';
    const hook = await created('/api/v1/event-actions', { name: unique('hook'), event_types: ['access_request.approved'], kind: 'webhook', config: { url } });
    expect(hook.signing_secret).toMatch(/^whsec_/);
    const hookRead = await admin.get(`/api/v1/event-actions/${hook.id}`);
    expect(hookRead.body.config).toEqual({ url });
    expect(hookRead.body).not.toHaveProperty('signing_secret');
    const repointed = await admin.patch(`/api/v1/event-actions/${hook.id}`, { config: { url: 'https://hooks.example.com/v2?x=1' } });
    expect(repointed.body.config).toEqual({ url: 'https://hooks.example.com/v2?x=1' });

    const slackUrl = 'https://hooks.slack.com/services/T0/B0/very-secret';
    const slack = await created('/api/v1/event-actions', { name: unique('slack'), event_types: ['access_request.denied'], kind: 'slack', config: { webhook_url: slackUrl } });
    const slackRead = await admin.get(`/api/v1/event-actions/${slack.id}`);
    expect(slackRead.body.config).toEqual({ webhook_url_set: true, webhook_url_host: 'hooks.slack.com' });
    expect(JSON.stringify([slack, slackRead.body])).not.toContain('very-secret');
  });
});
