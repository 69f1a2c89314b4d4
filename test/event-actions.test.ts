import { beforeAll, describe, expect, it } from 'vitest';
import { actionSecretAt, decryptActionSecret, findLiveActionById, findMatchingActions } from '../src/modules/event-actions/event-actions.repo.ts';
import { outboundUrlError } from '../src/modules/event-actions/event-actions.rules.ts';
import { isWebhookSecret } from '../src/modules/event-actions/webhook-signature.ts';
import { createEncrypter } from '../src/security/encryption.ts';
import { newId } from '../src/security/ids.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import type { TestServer } from './helpers/server.ts';
import { fieldsOf, templateFixtures } from './helpers/template-fixtures.ts';

const BASE = '/api/v1/event-actions';
const UNKNOWN_ID = '0190a0a0-0000-7000-8000-000000000000';
const SLACK_URL = 'https://hooks.slack.com/services/T0000/B0000/s3cr3tT0k3nXyZ';

/** Scripts belong to another module; its table is all an action needs. */
async function insertScript(server: TestServer, opts: { deleted?: boolean } = {}): Promise<string> {
  const { db, clock } = server.app.core;
  const id = newId(clock);
  const now = clock.now();
  await db
    .insertInto('scripts')
    .values({ id, name: `script-${id}`, description: '', source: 'log.info("hi")', allowed_hosts: '[]', created_at: now, updated_at: now, deleted_at: opts.deleted ? now : null })
    .execute();
  return id;
}

async function storedRow(server: TestServer, id: string) {
  return server.app.core.db.selectFrom('event_actions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function auditOf(server: TestServer, id: string) {
  const rows = await server.app.core.db.selectFrom('audit_events').select(['action', 'data']).where('target_id', '=', id).orderBy('seq').execute();
  return rows.map((r) => ({ action: r.action, data: JSON.parse(r.data) as Record<string, unknown>, raw: r.data }));
}

describeEachDialect('event actions API', (server) => {
  const fx = templateFixtures(server);
  let templateId: string;
  let otherTemplateId: string;
  let encrypter: ReturnType<typeof createEncrypter>;

  beforeAll(async () => {
    const target = await fx.appWithMapping();
    templateId = (await fx.createTemplate(target)).id;
    otherTemplateId = (await fx.createTemplate(target)).id;
    encrypter = createEncrypter(server().config.masterKey);
  });

  const webhookBody = (extra: Record<string, unknown> = {}) => ({
    name: fx.unique('hook'),
    event_types: ['access_request.revoked', 'access_request.approved'],
    kind: 'webhook',
    config: { url: 'https://provisioner.example.com/hooks/interim' },
    ...extra,
  });

  async function create(body: Record<string, unknown>) {
    const res = await server().admin.post(BASE, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  it('creates a webhook action, shows its signing secret once and stores it encrypted', async () => {
    const { admin } = server();
    const created = await create(webhookBody({ template_id: templateId }));
    expect(created).toEqual({
      id: expect.any(String),
      name: created.name,
      enabled: true,
      event_types: ['access_request.approved', 'access_request.revoked'],
      template_id: templateId,
      kind: 'webhook',
      config: { url: 'https://provisioner.example.com/hooks/interim' },
      signing_secret: expect.stringMatching(/^whsec_/),
      created_at: expect.any(String),
      updated_at: created.created_at,
    });
    const secret = created.signing_secret as string;
    expect(isWebhookSecret(secret)).toBe(true);

    const { signing_secret: _shownOnce, ...withoutSecret } = created;
    const read = await admin.get(`${BASE}/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(withoutSecret);
    expect((await admin.get(`${BASE}?limit=200`)).body.items).toContainEqual(withoutSecret);

    const row = await storedRow(server(), created.id);
    expect(row.secret_encrypted).not.toBeNull();
    expect(row.secret_encrypted).not.toContain(secret.slice(6));
    expect(row.config).not.toContain(secret);
    expect(encrypter.decrypt(row.secret_encrypted!, actionSecretAt(created.id))).toBe(secret);
    const action = await findLiveActionById(server().app.core.db, created.id);
    expect(action && decryptActionSecret(encrypter, action)).toBe(secret);

    const audit = await auditOf(server(), created.id);
    expect(audit.map((a) => a.action)).toEqual(['event_action.created']);
    expect(audit[0]!.data).toMatchObject({ kind: 'webhook', template_id: templateId, config: { url: 'https://provisioner.example.com/hooks/interim' } });
    expect(audit[0]!.raw).not.toContain(secret);
  });

  it('accepts a signing secret the admin brings, and refuses a malformed one', async () => {
    const own = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const created = await create(webhookBody({ config: { url: 'https://example.com/hook', signing_secret: own } }));
    expect(created.signing_secret).toBe(own);
    expect(encrypter.decrypt((await storedRow(server(), created.id)).secret_encrypted!, actionSecretAt(created.id))).toBe(own);

    for (const bad of ['whsec_tooshort', Buffer.alloc(32, 7).toString('base64'), 'whsec_' + Buffer.alloc(33, 0xfb).toString('base64url')]) {
      const res = await server().admin.post(BASE, webhookBody({ config: { url: 'https://example.com/hook', signing_secret: bad } }));
      expect(res.status, bad).toBe(400);
      expect(fieldsOf(res)).toEqual(['config.signing_secret']);
    }
  });

  it('rotates a webhook secret: a new one, shown once, replaces the old one; audited without it', async () => {
    const { admin } = server();
    const created = await create(webhookBody());
    const rotated = await admin.post(`${BASE}/${created.id}/rotate-secret`);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body).toMatchObject({ id: created.id, kind: 'webhook', signing_secret: expect.stringMatching(/^whsec_/) });
    expect(rotated.body.signing_secret).not.toBe(created.signing_secret);
    expect(encrypter.decrypt((await storedRow(server(), created.id)).secret_encrypted!, actionSecretAt(created.id))).toBe(rotated.body.signing_secret);
    expect((await admin.get(`${BASE}/${created.id}`)).body).not.toHaveProperty('signing_secret');

    const own = 'whsec_' + Buffer.alloc(24, 9).toString('base64');
    const given = await admin.post(`${BASE}/${created.id}/rotate-secret`, { signing_secret: own });
    expect(given.body.signing_secret).toBe(own);
    expect((await admin.post(`${BASE}/${created.id}/rotate-secret`, { signing_secret: 'whsec_nope' })).status).toBe(400);

    const audit = await auditOf(server(), created.id);
    expect(audit.map((a) => [a.action, a.data.secret_given])).toEqual([
      ['event_action.created', undefined],
      ['event_action.secret_rotated', false],
      ['event_action.secret_rotated', true],
    ]);
    for (const entry of audit) {
      expect(entry.raw).not.toContain(created.signing_secret);
      expect(entry.raw).not.toContain(rotated.body.signing_secret);
      expect(entry.raw).not.toContain(own);
    }
    expect((await admin.post(`${BASE}/${UNKNOWN_ID}/rotate-secret`)).status).toBe(404);
  });

  it('keeps the webhook secret when the URL changes, and takes a secret only through rotate-secret', async () => {
    const { admin } = server();
    const created = await create(webhookBody());
    const patched = await admin.patch(`${BASE}/${created.id}`, { config: { url: 'https://other.example.com/h' }, enabled: false });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ config: { url: 'https://other.example.com/h' }, enabled: false });
    expect(patched.body).not.toHaveProperty('signing_secret');
    expect(encrypter.decrypt((await storedRow(server(), created.id)).secret_encrypted!, actionSecretAt(created.id))).toBe(created.signing_secret);

    const withSecret = await admin.patch(`${BASE}/${created.id}`, { config: { url: 'https://other.example.com/h', signing_secret: created.signing_secret } });
    expect(withSecret.status).toBe(400);
    expect(fieldsOf(withSecret)).toEqual(['config.signing_secret']);
    expect(withSecret.body.detail).toMatch(/rotate-secret/);
  });

  it('stores a Slack webhook URL encrypted and never shows it, only its host', async () => {
    const { admin } = server();
    const created = await create({ name: fx.unique('slack'), event_types: ['access_request.submitted'], kind: 'slack', config: { webhook_url: SLACK_URL } });
    expect(created).toMatchObject({ kind: 'slack', template_id: null, config: { webhook_url_set: true, webhook_url_host: 'hooks.slack.com' } });
    expect(created).not.toHaveProperty('signing_secret');
    const read = await admin.get(`${BASE}/${created.id}`);
    expect(read.body).toEqual(created);
    expect(JSON.stringify(read.body)).not.toContain('s3cr3t');
    expect(JSON.stringify((await admin.get(`${BASE}?kind=slack&limit=200`)).body)).not.toContain('s3cr3t');

    const row = await storedRow(server(), created.id);
    expect(row.config).not.toContain('s3cr3t');
    expect(row.secret_encrypted).not.toContain('s3cr3t');
    expect(encrypter.decrypt(row.secret_encrypted!, actionSecretAt(created.id))).toBe(SLACK_URL);

    const replaced = SLACK_URL.replace('s3cr3t', 'n3w');
    const patched = await admin.patch(`${BASE}/${created.id}`, { config: { webhook_url: replaced } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.config).toEqual({ webhook_url_set: true, webhook_url_host: 'hooks.slack.com' });
    expect(encrypter.decrypt((await storedRow(server(), created.id)).secret_encrypted!, actionSecretAt(created.id))).toBe(replaced);
    const action = await findLiveActionById(server().app.core.db, created.id);
    expect(action && decryptActionSecret(encrypter, action)).toBe(replaced);

    const audit = await auditOf(server(), created.id);
    expect(audit.map((a) => a.action)).toEqual(['event_action.created', 'event_action.updated']);
    expect(audit[1]!.data.webhook_url_replaced).toBe(true);
    for (const entry of audit) expect(entry.raw).not.toMatch(/s3cr3t|n3w/);

    expect((await admin.post(`${BASE}/${created.id}/rotate-secret`)).body.code).toBe('not_a_webhook');
  });

  it('creates email actions for the requester, the approvers or fixed addresses', async () => {
    const { admin } = server();
    const requester = await create({ name: fx.unique('mail'), event_types: ['access_request.denied'], kind: 'email', config: { recipients: 'requester' } });
    expect(requester.config).toEqual({ recipients: 'requester' });
    expect((await storedRow(server(), requester.id)).secret_encrypted).toBeNull();

    const fixed = await create({
      name: fx.unique('mail'),
      event_types: ['access_request.expired'],
      kind: 'email',
      config: { recipients: 'addresses', addresses: ['Security@Example.com', 'audit@example.com'] },
    });
    expect(fixed.config).toEqual({ recipients: 'addresses', addresses: ['security@example.com', 'audit@example.com'] });
    expect((await admin.get(`${BASE}/${fixed.id}`)).body).toEqual(fixed);

    const switched = await admin.patch(`${BASE}/${fixed.id}`, { config: { recipients: 'approvers' } });
    expect(switched.status, JSON.stringify(switched.body)).toBe(200);
    expect(switched.body.config).toEqual({ recipients: 'approvers' });
    const incomplete = await admin.patch(`${BASE}/${fixed.id}`, { config: { recipients: 'addresses' } });
    expect(incomplete.status).toBe(400);
    expect(fieldsOf(incomplete)).toEqual(['config.addresses']);
    expect((await admin.get(`${BASE}/${fixed.id}`)).body.config).toEqual({ recipients: 'approvers' });
  });

  it('creates a script action for a live script only', async () => {
    const { admin } = server();
    const scriptId = await insertScript(server());
    const created = await create({ name: fx.unique('script'), event_types: ['access_request.approved'], template_id: templateId, kind: 'script', config: { script_id: scriptId } });
    expect(created.config).toEqual({ script_id: scriptId });

    const deletedScript = await insertScript(server(), { deleted: true });
    for (const id of [deletedScript, UNKNOWN_ID]) {
      const res = await admin.post(BASE, { name: 'x', event_types: ['access_request.approved'], kind: 'script', config: { script_id: id } });
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toEqual(['config.script_id']);
      const patch = await admin.patch(`${BASE}/${created.id}`, { config: { script_id: id } });
      expect(fieldsOf(patch)).toEqual(['config.script_id']);
    }
  });

  it('patches the rule, never the kind, and soft-deletes with an audit trail', async () => {
    const { admin } = server();
    const created = await create(webhookBody());
    const patched = await admin.patch(`${BASE}/${created.id}`, {
      name: 'renamed',
      event_types: ['access_request.expired', 'access_request.submitted'],
      template_id: otherTemplateId,
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ name: 'renamed', event_types: ['access_request.submitted', 'access_request.expired'], template_id: otherTemplateId, enabled: true });
    const cleared = await admin.patch(`${BASE}/${created.id}`, { template_id: null, kind: 'webhook' });
    expect(cleared.body.template_id).toBeNull();

    const kindChange = await admin.patch(`${BASE}/${created.id}`, { kind: 'email', config: { recipients: 'requester' } });
    expect(kindChange.status).toBe(400);
    expect(fieldsOf(kindChange)).toContain('kind');

    expect((await admin.delete(`${BASE}/${created.id}`)).status).toBe(204);
    expect((await admin.get(`${BASE}/${created.id}`)).status).toBe(404);
    expect((await admin.patch(`${BASE}/${created.id}`, { name: 'again' })).status).toBe(404);
    expect((await admin.delete(`${BASE}/${created.id}`)).status).toBe(404);
    expect((await admin.post(`${BASE}/${created.id}/rotate-secret`)).status).toBe(404);
    expect((await admin.get(`${BASE}?limit=200`)).body.items.map((a: { id: string }) => a.id)).not.toContain(created.id);
    expect((await storedRow(server(), created.id)).deleted_at).not.toBeNull();

    const audit = await auditOf(server(), created.id);
    expect(audit.map((a) => a.action)).toEqual(['event_action.created', 'event_action.updated', 'event_action.updated', 'event_action.deleted']);
    expect(audit[1]!.data).toMatchObject({ before: { name: created.name, template_id: null }, after: { name: 'renamed', template_id: otherTemplateId } });
    for (const entry of audit) expect(entry.raw).not.toContain(created.signing_secret);
  });

  it('lists with filters and a cursor', async () => {
    const { admin } = server();
    const target = await fx.appWithMapping();
    const scoped = (await fx.createTemplate(target)).id;
    const ids = [
      (await create(webhookBody({ template_id: scoped }))).id,
      (await create({ name: fx.unique('mail'), event_types: ['access_request.denied'], template_id: scoped, kind: 'email', config: { recipients: 'requester' } })).id,
      (await create(webhookBody({ template_id: scoped, enabled: false }))).id,
    ];
    const first = await admin.get(`${BASE}?template_id=${scoped}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.items.map((a: { id: string }) => a.id)).toEqual(ids.slice(0, 2));
    expect(first.body.next_cursor).toBe(ids[1]);
    const second = await admin.get(`${BASE}?template_id=${scoped}&limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: ids[2] })], next_cursor: null });

    const ofKind = await admin.get(`${BASE}?template_id=${scoped}&kind=webhook`);
    expect(ofKind.body.items.map((a: { id: string }) => a.id)).toEqual([ids[0], ids[2]]);
    const disabled = await admin.get(`${BASE}?template_id=${scoped}&enabled=false`);
    expect(disabled.body.items.map((a: { id: string }) => a.id)).toEqual([ids[2]]);
    const enabledWebhooks = await admin.get(`${BASE}?template_id=${scoped}&enabled=true&kind=webhook`);
    expect(enabledWebhooks.body.items.map((a: { id: string }) => a.id)).toEqual([ids[0]]);
    expect((await admin.get(`${BASE}?kind=carrier-pigeon`)).status).toBe(400);
  });

  it('refuses invalid rules with 400s naming the field', async () => {
    const { admin } = server();
    const deletedTemplate = (await fx.createTemplate(await fx.appWithMapping())).id;
    expect((await admin.delete(`/api/v1/access-request-templates/${deletedTemplate}`)).status).toBe(204);
    const cases: [Record<string, unknown>, string[]][] = [
      [webhookBody({ event_types: ['access_request.exploded'] }), ['event_types.0']],
      [webhookBody({ event_types: [] }), ['event_types']],
      [webhookBody({ event_types: ['access_request.approved', 'access_request.approved'] }), ['event_types']],
      [webhookBody({ template_id: UNKNOWN_ID }), ['template_id']],
      [webhookBody({ template_id: deletedTemplate }), ['template_id']],
      [webhookBody({ config: { url: 'http://provisioner.example.com/hook' } }), ['config.url']],
      [webhookBody({ config: { url: 'https://127.0.0.1/hook' } }), ['config.url']],
      [webhookBody({ config: { url: 'https://[::1]:8443/hook' } }), ['config.url']],
      [webhookBody({ config: { url: 'https://user:pw@example.com/hook' } }), ['config.url']],
      [webhookBody({ config: { url: '/relative/hook' } }), ['config.url']],
      [webhookBody({ config: {} }), ['config.url']],
      [webhookBody({ name: '' }), ['name']],
      [webhookBody({ surprise: true }), ['body']],
      [{ name: 'x', event_types: ['access_request.denied'], kind: 'slack', config: { webhook_url: 'http://hooks.slack.com/services/x' } }, ['config.webhook_url']],
      [{ name: 'x', event_types: ['access_request.denied'], kind: 'email', config: { recipients: 'requester', addresses: ['a@example.com'] } }, ['config.addresses']],
      [{ name: 'x', event_types: ['access_request.denied'], kind: 'email', config: { recipients: 'addresses' } }, ['config.addresses']],
      [{ name: 'x', event_types: ['access_request.denied'], kind: 'email', config: { recipients: 'addresses', addresses: [] } }, ['config.addresses']],
      [{ name: 'x', event_types: ['access_request.denied'], kind: 'email', config: { recipients: 'addresses', addresses: ['not-an-email'] } }, ['config.addresses.0']],
      [
        { name: 'x', event_types: ['access_request.denied'], kind: 'email', config: { recipients: 'addresses', addresses: Array.from({ length: 21 }, (_, i) => `u${i}@example.com`) } },
        ['config.addresses'],
      ],
      [{ name: 'x', event_types: ['access_request.denied'], kind: 'email', config: { recipients: 'addresses', addresses: ['a@example.com', 'A@example.com'] } }, ['config.addresses']],
      [{ name: 'x', event_types: ['access_request.denied'], kind: 'email', config: { recipients: 'everyone' } }, ['config.recipients']],
      [{ name: 'x', event_types: ['access_request.denied'], kind: 'script', config: { script_id: 'not-a-uuid' } }, ['config.script_id']],
      [{ name: 'x', event_types: ['access_request.denied'], kind: 'pager', config: {} }, ['kind']],
    ];
    for (const [body, fields] of cases) {
      const res = await admin.post(BASE, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(fieldsOf(res), JSON.stringify(body)).toEqual(expect.arrayContaining(fields));
    }
    // Two bad references are reported together.
    const both = await admin.post(BASE, { name: 'x', event_types: ['access_request.denied'], template_id: UNKNOWN_ID, kind: 'script', config: { script_id: UNKNOWN_ID } });
    expect(fieldsOf(both).sort()).toEqual(['config.script_id', 'template_id']);

    const created = await create(webhookBody());
    for (const [patch, field] of [
      [{ event_types: ['access_request.nope'] }, 'event_types.0'],
      [{ template_id: deletedTemplate }, 'template_id'],
      [{ config: { url: 'ftp://example.com/x' } }, 'config.url'],
      [{ config: { url: 'https://example.com/x', extra: 1 } }, 'config'],
    ] as const) {
      const res = await admin.patch(`${BASE}/${created.id}`, patch);
      expect(res.status, JSON.stringify(patch)).toBe(400);
      expect(fieldsOf(res), JSON.stringify(patch)).toEqual([field]);
    }
    expect((await admin.get(`${BASE}/${created.id}`)).body.config).toEqual(webhookBody().config);
  });

  it('is for admins only, and needs a caller', async () => {
    const created = await create(webhookBody());
    const { client } = await fx.user();
    const anonymous = new ApiClient(server().url);
    const calls = [
      (c: ApiClient) => c.get(BASE),
      (c: ApiClient) => c.post(BASE, webhookBody()),
      (c: ApiClient) => c.get(`${BASE}/${created.id}`),
      (c: ApiClient) => c.patch(`${BASE}/${created.id}`, { name: 'mine now' }),
      (c: ApiClient) => c.delete(`${BASE}/${created.id}`),
      (c: ApiClient) => c.post(`${BASE}/${created.id}/rotate-secret`),
    ];
    for (const call of calls) {
      expect((await call(client)).status).toBe(403);
      expect((await call(anonymous)).status).toBe(401);
    }
    expect((await server().admin.get(`${BASE}/${created.id}`)).body.name).toBe(created.name);
  });

  it('documents its endpoints in the OpenAPI document, each kind of body included', async () => {
    const res = await new ApiClient(server().url).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = typeof res.body === 'string' ? JSON.parse(res.body) : res.body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([BASE, `${BASE}/{id}`, `${BASE}/{id}/rotate-secret`, `${BASE}/{id}/deliveries`]));
    expect(doc.paths[BASE].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['kind', 'template_id', 'enabled', 'cursor', 'limit']));
    const body = JSON.stringify(doc.paths[BASE].post.requestBody);
    for (const field of ['url', 'signing_secret', 'webhook_url', 'recipients', 'addresses', 'script_id']) expect(body).toContain(`"${field}"`);
  });

  it('finds the live, enabled actions that match an event and template, for the fan-out', async () => {
    const { db } = server().app.core;
    const scoped = (await fx.createTemplate(await fx.appWithMapping())).id;
    const other = (await fx.createTemplate(await fx.appWithMapping())).id;
    const make = async (extra: Record<string, unknown>) => (await create(webhookBody({ event_types: ['access_request.expired'], ...extra }))).id as string;
    const everyTemplate = await make({});
    const thisTemplate = await make({ template_id: scoped, event_types: ['access_request.submitted', 'access_request.expired'] });
    const otherTemplate = await make({ template_id: other });
    const disabled = await make({ template_id: scoped, enabled: false });
    const deleted = await make({ template_id: scoped });
    await server().admin.delete(`${BASE}/${deleted}`);
    const expiringOnly = await make({ template_id: scoped, event_types: ['access_request.expiring_soon'] });
    const mine = new Set([everyTemplate, thisTemplate, otherTemplate, disabled, deleted, expiringOnly]);
    const matching = async (type: Parameters<typeof findMatchingActions>[1], template: string | null) =>
      (await findMatchingActions(db, type, template)).map((a) => a.id).filter((id) => mine.has(id));

    expect(await matching('access_request.expired', scoped)).toEqual([everyTemplate, thisTemplate]);
    expect(await matching('access_request.expired', other)).toEqual([everyTemplate, otherTemplate]);
    expect(await matching('access_request.expired', null)).toEqual([everyTemplate]);
    expect(await matching('access_request.submitted', scoped)).toEqual([thisTemplate]);
    expect(await matching('access_request.expiring_soon', scoped)).toEqual([expiringOnly]);
    expect(await matching('access_request.denied', scoped)).toEqual([]);

    const [action] = (await findMatchingActions(db, 'access_request.submitted', scoped)).filter((a) => a.id === thisTemplate);
    expect(action).toMatchObject({ kind: 'webhook', enabled: true, template_id: scoped, config: { url: 'https://provisioner.example.com/hooks/interim' } });
    expect(decryptActionSecret(encrypter, action!)).toMatch(/^whsec_/);
    expect(await findLiveActionById(db, deleted)).toBeUndefined();
  });
});

describeEachDialect(
  'event actions API with private hosts allowed',
  (server) => {
    it('accepts plain http to a loopback receiver, as tests and development need', async () => {
      const res = await server().admin.post(BASE, {
        name: 'loopback receiver',
        event_types: ['access_request.approved'],
        kind: 'webhook',
        config: { url: 'http://127.0.0.1:9/hook' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.config.url).toBe('http://127.0.0.1:9/hook');
      const ftp = await server().admin.post(BASE, { name: 'x', event_types: ['access_request.approved'], kind: 'slack', config: { webhook_url: 'ftp://127.0.0.1/x' } });
      expect(fieldsOf(ftp)).toEqual(['config.webhook_url']);
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true' },
);

describe('outbound URL rule', () => {
  const strict = { allowPrivate: false };
  const relaxed = { allowPrivate: true };
  it.each([
    ['https://hooks.slack.com/services/T/B/x', null, null],
    ['https://93.184.215.14/hook', null, null],
    ['http://example.com/hook', 'must be an https URL', null],
    ['https://localhost/hook', 'must not point at a loopback, private or other non-public address', null],
    ['https://api.localhost/hook', 'must not point at a loopback, private or other non-public address', null],
    ['https://10.1.2.3/hook', 'must not point at a loopback, private or other non-public address', null],
    ['https://169.254.169.254/latest/meta-data', 'must not point at a loopback, private or other non-public address', null],
    ['https://[fd00::1]/hook', 'must not point at a loopback, private or other non-public address', null],
    ['https://[::ffff:127.0.0.1]/hook', 'must not point at a loopback, private or other non-public address', null],
    ['https://u:p@example.com/', 'must not carry a user name or password', 'must not carry a user name or password'],
    ['ftp://example.com/', 'must be an https URL', 'must be an http or https URL'],
    ['javascript:alert(1)', 'must be an https URL', 'must be an http or https URL'],
    ['not a url', 'must be an absolute URL', 'must be an absolute URL'],
    ['http://127.0.0.1:8080/hook', 'must be an https URL', null],
  ])('%s', (url, withoutPrivate, withPrivate) => {
    expect(outboundUrlError(url, strict)).toBe(withoutPrivate);
    expect(outboundUrlError(url, relaxed)).toBe(withPrivate);
  });
});
