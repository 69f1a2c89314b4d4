import { afterAll, expect, it } from 'vitest';
import { createScriptsService, type ScriptsService } from '../src/modules/scripts/scripts.service.ts';
import { createEncrypter } from '../src/security/encryption.ts';
import { newId } from '../src/security/ids.ts';
import { createPerson, setUpAccess } from './helpers/access-fixtures.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import type { TestServer } from './helpers/server.ts';

describeEachDialect('scripts API', (server) => {
  let counter = 0;
  const unique = (prefix: string) => `${prefix}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  const fieldsOf = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((e) => e.field);

  async function createSecret(value = 'sk_live_0123456789', name = unique('TOKEN')) {
    const res = await server().admin.post('/api/v1/script-secrets', { name, value });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; name: string };
  }

  async function createScript(body: Record<string, unknown> = {}) {
    const res = await server().admin.post('/api/v1/scripts', { name: unique('script'), source: `log.info('hi')`, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; name: string; allowed_hosts: string[]; secret_ids: string[] };
  }

  /** A second service over the same database and key: what the dispatcher would hold. */
  let dispatcherSide: ScriptsService | undefined;
  const dispatcher = (s: TestServer) =>
    (dispatcherSide ??= createScriptsService(s.app.core, { encrypter: createEncrypter(s.config.masterKey), config: s.config, templatesUsing: async () => [] }));
  afterAll(async () => {
    await dispatcherSide?.close();
  });

  it('creates, reads, lists, updates and deletes scripts', async () => {
    const { admin } = server();
    const secret = await createSecret();
    const created = await createScript({
      description: 'Provision in the CRM',
      allowed_hosts: ['API.Example.com', 'api.example.com', '[2001:DB8::1]', '127.0.0.1'],
      secret_ids: [secret.id, secret.id],
    });
    expect(created).toMatchObject({ description: 'Provision in the CRM', allowed_hosts: ['api.example.com', '2001:db8::1', '127.0.0.1'], secret_ids: [secret.id] });

    expect((await admin.get(`/api/v1/scripts/${created.id}`)).body).toMatchObject({ id: created.id, source: `log.info('hi')` });

    const patched = await admin.patch(`/api/v1/scripts/${created.id}`, { source: 'return 1', allowed_hosts: [], secret_ids: [] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ source: 'return 1', allowed_hosts: [], secret_ids: [], name: created.name });

    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; next_cursor: string | null } } = await admin.get(`/api/v1/scripts?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      listed.push(...page.body.items.map((s) => s.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(listed).toContain(created.id);

    expect((await admin.delete(`/api/v1/scripts/${created.id}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/scripts/${created.id}`)).status).toBe(404);
    expect((await admin.patch(`/api/v1/scripts/${created.id}`, { name: 'x' })).status).toBe(404);
    expect((await admin.delete(`/api/v1/scripts/${created.id}`)).status).toBe(404);

    const audit = await admin.get(`/api/v1/audit-events?target_id=${created.id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action).sort()).toEqual(['script.created', 'script.deleted', 'script.updated']);
  });

  it('rejects bad input with a problem naming the field', async () => {
    const { admin } = server();
    const cases: [Record<string, unknown>, string][] = [
      [{ source: 'x' }, 'name'],
      [{ name: 'n' }, 'source'],
      [{ name: 'n', source: '' }, 'source'],
      [{ name: 'n', source: 'x'.repeat(256 * 1024 + 1) }, 'source'],
      [{ name: 'n', source: 'x', allowed_hosts: ['https://api.example.com'] }, 'allowed_hosts.0'],
      [{ name: 'n', source: 'x', allowed_hosts: ['ok.example.com', 'api.example.com:8443'] }, 'allowed_hosts.1'],
      [{ name: 'n', source: 'x', allowed_hosts: ['api.example.com/hook'] }, 'allowed_hosts.0'],
      [{ name: 'n', source: 'x', allowed_hosts: ['*.example.com'] }, 'allowed_hosts.0'],
      [{ name: 'n', source: 'x', allowed_hosts: 'api.example.com' }, 'allowed_hosts'],
      [{ name: 'n', source: 'x', secret_ids: ['not-a-uuid'] }, 'secret_ids.0'],
      [{ name: 'n', source: 'x', secret_ids: [newId({ now: () => 0 })] }, 'secret_ids'],
    ];
    for (const [body, field] of cases) {
      const res = await admin.post('/api/v1/scripts', body);
      expect(res.status, JSON.stringify(body).slice(0, 100)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(fieldsOf(res.body), JSON.stringify(body).slice(0, 100)).toContain(field);
    }
    // A source of exactly 256 KiB is fine.
    await createScript({ source: `//${'x'.repeat(256 * 1024 - 2)}` });
    expect((await admin.post('/api/v1/scripts', { name: 'n', source: 'x', run_as: 'root' })).status).toBe(400);
    const script = await createScript();
    const patch = await admin.patch(`/api/v1/scripts/${script.id}`, { allowed_hosts: ['ftp://x'] });
    expect(patch.status).toBe(400);
    expect(fieldsOf(patch.body)).toEqual(['allowed_hosts.0']);
    expect((await admin.get('/api/v1/scripts/not-a-uuid')).status).toBe(400);
  });

  it('keeps secret values write-only, encrypted at rest and out of the audit trail', async () => {
    const { admin, app } = server();
    const value = `very-secret-${Math.random().toString(36).slice(2)}`;
    const secret = await createSecret(value);
    expect(secret).not.toHaveProperty('value');
    expect(JSON.stringify(secret)).not.toContain(value);

    const stored = await app.core.db.selectFrom('script_secrets').selectAll().where('id', '=', secret.id).executeTakeFirstOrThrow();
    expect(stored.value_encrypted).not.toContain(value);
    expect(stored.value_encrypted).toMatch(/^v2\./);

    const renamed = await admin.patch(`/api/v1/script-secrets/${secret.id}`, { name: 'RENAMED_TOKEN', value: `${value}-2` });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: secret.id, name: 'RENAMED_TOKEN', script_ids: [] });
    expect(JSON.stringify((await admin.get(`/api/v1/script-secrets/${secret.id}`)).body)).not.toContain(value);
    expect(JSON.stringify((await admin.get('/api/v1/script-secrets?limit=200')).body)).not.toContain(value);

    const audit = await admin.get(`/api/v1/audit-events?target_id=${secret.id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action).sort()).toEqual(['script_secret.created', 'script_secret.updated']);
    expect(JSON.stringify(audit.body)).not.toContain(value);
    expect(audit.body.items.find((e: { action: string }) => e.action === 'script_secret.updated').data).toMatchObject({ name: 'RENAMED_TOKEN', value_changed: true });
  });

  it('validates script secrets and deletes them with their grants', async () => {
    const { admin } = server();
    for (const [body, field] of [
      [{ name: '1BAD', value: 'v' }, 'name'],
      [{ name: 'has-dash', value: 'v' }, 'name'],
      [{ name: 'A'.repeat(65), value: 'v' }, 'name'],
      [{ name: 'OK' }, 'value'],
      [{ name: 'OK', value: '' }, 'value'],
    ] as const) {
      const res = await admin.post('/api/v1/script-secrets', body);
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toContain(field);
    }
    const secret = await createSecret('v-123456', unique('_Dup'));
    const dupe = await admin.post('/api/v1/script-secrets', { name: secret.name, value: 'other' });
    expect(dupe.status).toBe(409);
    expect(dupe.body.code).toBe('secret_name_taken');

    const script = await createScript({ secret_ids: [secret.id] });
    expect((await admin.get(`/api/v1/script-secrets/${secret.id}`)).body.script_ids).toEqual([script.id]);
    expect((await admin.delete(`/api/v1/script-secrets/${secret.id}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/script-secrets/${secret.id}`)).status).toBe(404);
    expect((await admin.get(`/api/v1/scripts/${script.id}`)).body.secret_ids).toEqual([]);
  });

  it('needs a caller, and admins only', async () => {
    const script = await createScript();
    const secret = await createSecret();
    const endpoints: [string, string, unknown?][] = [
      ['GET', '/api/v1/scripts'],
      ['POST', '/api/v1/scripts', { name: 'n', source: 'x' }],
      ['GET', `/api/v1/scripts/${script.id}`],
      ['PATCH', `/api/v1/scripts/${script.id}`, { name: 'n' }],
      ['DELETE', `/api/v1/scripts/${script.id}`],
      ['GET', `/api/v1/scripts/${script.id}/runs`],
      ['POST', `/api/v1/scripts/${script.id}/test`, {}],
      ['GET', '/api/v1/script-runs'],
      ['GET', '/api/v1/script-secrets'],
      ['POST', '/api/v1/script-secrets', { name: 'N', value: 'v' }],
      ['GET', `/api/v1/script-secrets/${secret.id}`],
      ['PATCH', `/api/v1/script-secrets/${secret.id}`, { value: 'v2' }],
      ['DELETE', `/api/v1/script-secrets/${secret.id}`],
    ];
    const anonymous = new ApiClient(server().url);
    const user = await createPerson(server(), 'scripter');
    for (const [method, path, body] of endpoints) {
      expect((await anonymous.request(method, path, body)).status, `${method} ${path} anonymous`).toBe(401);
      expect((await user.client.request(method, path, body)).status, `${method} ${path} non-admin`).toBe(403);
    }
    expect((await server().admin.get(`/api/v1/scripts/${script.id}`)).status).toBe(200);
    expect((await server().admin.get(`/api/v1/script-secrets/${secret.id}`)).status).toBe(200);
  });

  it('test-runs a script against a sample event and records the run', async () => {
    const { admin } = server();
    const secret = await createSecret('Bearer-value-xyz', unique('CRM'));
    const script = await createScript({
      secret_ids: [secret.id],
      source: `log.info(config.get('trigger_event'), config.get('requester_email'), config.get('field.ticket'), config.get('expires_at') !== '');
               log.info(typeof secrets.get('${secret.name}'), secrets.get('NOT_GRANTED'));
               if (config.get('trigger_event') === 'denied') throw new Error('nothing to do for ' + config.get('request_id'));`,
    });
    const approved = await admin.post(`/api/v1/scripts/${script.id}/test`);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ script_id: script.id, trigger_event: 'test:approved', status: 'succeeded', error: null, request_id: null, event_id: null });
    expect(approved.body.logs.map((l: { message: string }) => l.message)).toEqual(['approved requester@example.com TICKET-123 true', 'string undefined']);

    const denied = await admin.post(`/api/v1/scripts/${script.id}/test`, { event: { type: 'denied', config: { request_id: 'REQ-9', 'field.ticket': 'T-2' } } });
    expect(denied.body).toMatchObject({ trigger_event: 'test:denied', status: 'failed', error: 'Error: nothing to do for REQ-9' });
    expect(denied.body.logs[0].message).toBe('denied requester@example.com T-2 false');

    const bad = await admin.post(`/api/v1/scripts/${script.id}/test`, { event: { type: 'exploded' } });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['event.type']);
    expect((await admin.post(`/api/v1/scripts/${newId({ now: () => 1 })}/test`, {})).status).toBe(404);

    const runs = await admin.get(`/api/v1/scripts/${script.id}/runs?limit=1`);
    expect(runs.body.items.map((r: { id: string }) => r.id)).toEqual([denied.body.id]);
    const older = await admin.get(`/api/v1/scripts/${script.id}/runs?limit=1&cursor=${runs.body.next_cursor}`);
    expect(older.body.items.map((r: { id: string }) => r.id)).toEqual([approved.body.id]);
    expect(older.body.next_cursor).toBeNull();
  });

  it('runScript records runs per request, never throws for guest failures, and 404s for a missing script', async () => {
    const s = server();
    const service = dispatcher(s);
    const script = await createScript({ source: `log.warn('for', config.get('request_id')); if (config.get('fail') === 'yes') throw new Error('external system said no');` });
    const requestId = newId(s.app.core.clock);
    const ok = await service.runScript(script.id, { eventId: 'evt-1', requestId, triggerEvent: 'approved', config: { request_id: requestId } });
    expect(ok).toMatchObject({ status: 'succeeded', request_id: requestId, event_id: 'evt-1', trigger_event: 'approved' });
    const failed = await service.runScript(script.id, { eventId: 'evt-2', requestId, triggerEvent: 'revoked', config: { request_id: requestId, fail: 'yes' } });
    expect(failed).toMatchObject({ status: 'failed', error: 'Error: external system said no' });
    await service.runScript(script.id, { eventId: null, requestId: newId(s.app.core.clock), triggerEvent: 'approved', config: {} });

    const byRequest = await s.admin.get(`/api/v1/script-runs?request_id=${requestId}`);
    expect(byRequest.status).toBe(200);
    expect(byRequest.body.items.map((r: { id: string }) => r.id)).toEqual([failed.id, ok.id]);
    expect(byRequest.body.items[1].logs[0]).toMatchObject({ level: 'warn', message: `for ${requestId}` });
    expect((await s.admin.get('/api/v1/script-runs?request_id=nope')).status).toBe(400);

    await expect(service.runScript(newId(s.app.core.clock), { eventId: null, requestId: null, triggerEvent: 'approved', config: {} })).rejects.toMatchObject({ status: 404 });
    expect((await s.admin.delete(`/api/v1/scripts/${script.id}`)).status).toBe(204);
    await expect(service.runScript(script.id, { eventId: null, requestId: null, triggerEvent: 'approved', config: {} })).rejects.toMatchObject({ status: 404 });
    // Runs outlive the script they belong to.
    expect((await s.admin.get(`/api/v1/script-runs?request_id=${requestId}`)).body.items).toHaveLength(2);
  });

  it('refuses to delete a script a template runs', async () => {
    const access = await setUpAccess(server());
    const script = await createScript();
    const templateId = await access.template({ trigger: { script_id: script.id, failure_mode: 'ignore' } });
    const res = await server().admin.delete(`/api/v1/scripts/${script.id}`);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('script_in_use');
    expect(res.body.templates.map((t: { id: string }) => t.id)).toEqual([templateId]);
  });
});
