import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import type { Tx } from '../src/db/database.ts';
import type { Actor } from '../src/http/actor.ts';
import { loadTemplateForRequest } from '../src/modules/templates/templates.repo.ts';
import { createTemplatesService } from '../src/modules/templates/templates.service.ts';
import { createTemplateIn, type Template } from '../src/modules/templates/templates.types.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { fieldsOf, templateFixtures } from './helpers/template-fixtures.ts';

const BASE = '/api/v1/access-request-templates';
const UNKNOWN_ID = '0190a0a0-0000-7000-8000-000000000000';

describeEachDialect('access-request templates API', (server) => {
  const fx = templateFixtures(server);
  let target: { appId: string; mappingId: string };
  let scriptId: string;

  beforeAll(async () => {
    target = await fx.appWithMapping();
    const script = await server().admin.post('/api/v1/scripts', { name: fx.unique('trigger'), source: "log.info('event');" });
    expect(script.status, JSON.stringify(script.body)).toBe(201);
    scriptId = script.body.id;
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('creates a template with every attribute, reads, lists, patches and deletes it', async () => {
    const { admin } = server();
    const secondMapping = await fx.mapping(target.appId);
    const [approvers, requesters, managers] = [await fx.group(), await fx.group(), await fx.group()];
    const body = {
      name: 'Production database',
      description: 'Read-only access for incident response',
      enabled: true,
      app_id: target.appId,
      mapping_ids: [secondMapping, target.mappingId],
      allowed_durations: [480, 60, 240],
      approver_group_ids: [approvers],
      requester_group_ids: [requesters],
      require_justification: false,
      auto_approve: true,
      notification_policy: 'random_n',
      notification_count: 2,
      escalation_after_mins: 15,
      escalation_group_id: managers,
      custom_fields: [
        { key: 'ticket', label: 'Incident ticket', type: 'text', required: true },
        { key: 'env', label: 'Environment', type: 'dropdown', options: ['staging', 'production'] },
        { key: 'ack', label: 'I have read the runbook', type: 'checkbox', required: true },
      ],
      trigger: { script_id: scriptId, failure_mode: 'block', max_retries: 5 },
    };
    const created = await admin.post(BASE, body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual({
      ...body,
      id: expect.any(String),
      mapping_ids: [secondMapping, target.mappingId].sort(),
      allowed_durations: [60, 240, 480],
      custom_fields: [
        { key: 'ticket', label: 'Incident ticket', type: 'text', required: true },
        { key: 'env', label: 'Environment', type: 'dropdown', required: false, options: ['staging', 'production'] },
        { key: 'ack', label: 'I have read the runbook', type: 'checkbox', required: true },
      ],
      approval: 'groups',
      stages: [{ position: 1, approval: 'groups', approver_group_ids: [approvers], quorum: 1, escalation_after_mins: 15, escalation_group_id: managers }],
      allow_extension: false,
      extension_requires_approval: true,
      max_total_mins: null,
      // The approver group has nobody in it yet.
      warnings: ['approver_groups_without_active_members'],
      max_start_delay_mins: null,
      allow_bulk_decisions: false,
      step_up_minutes: null,
      version: 1,
      pending_ttl_mins: null,
      break_glass: false,
      break_glass_max_mins: null,
      break_glass_review_mins: null,
      created_at: expect.any(String),
      updated_at: created.body.created_at,
    });
    const id = created.body.id as string;
    expect((await admin.get(`${BASE}/${id}`)).body).toEqual(created.body);
    expect((await admin.get(`${BASE}?limit=200`)).body.items).toContainEqual(created.body);

    const patched = await admin.patch(`${BASE}/${id}`, { name: 'Prod DB', allowed_durations: [30], trigger: null, escalation_after_mins: null, escalation_group_id: null });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toEqual({
      ...created.body,
      name: 'Prod DB',
      allowed_durations: [30],
      trigger: null,
      escalation_after_mins: null,
      escalation_group_id: null,
      stages: [{ position: 1, approval: 'groups', approver_group_ids: [approvers], quorum: 1, escalation_after_mins: null, escalation_group_id: null }],
      version: 2,
      updated_at: expect.any(String),
    });
    expect((await admin.get(`${BASE}/${id}`)).body).toEqual(patched.body);

    expect((await admin.delete(`${BASE}/${id}`)).status).toBe(204);
    expect((await admin.get(`${BASE}/${id}`)).status).toBe(404);
    expect((await admin.patch(`${BASE}/${id}`, { name: 'again' })).status).toBe(404);
    expect((await admin.delete(`${BASE}/${id}`)).status).toBe(404);
    expect((await admin.get(`${BASE}?limit=200`)).body.items.map((t: { id: string }) => t.id)).not.toContain(id);
    // Soft delete: the row stays for the requests and audit events that point at it.
    const row = await server().app.core.db.selectFrom('access_request_templates').select(['deleted_at', 'version']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
  });

  it('fills in defaults for a minimal template', async () => {
    const res = await server().admin.post(BASE, { name: 'Minimal', app_id: target.appId, mapping_ids: [target.mappingId], allowed_durations: [60], approval: 'open' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      description: '',
      enabled: true,
      approval: 'open',
      warnings: [],
      approver_group_ids: [],
      requester_group_ids: [],
      require_justification: true,
      auto_approve: false,
      notification_policy: 'all',
      notification_count: 1,
      escalation_after_mins: null,
      escalation_group_id: null,
      custom_fields: [],
      trigger: null,
      version: 1,
    });
    const trigger = await server().admin.patch(`${BASE}/${res.body.id}`, { trigger: { script_id: scriptId } });
    expect(trigger.body.trigger).toEqual({ script_id: scriptId, failure_mode: 'ignore', max_retries: 3 });
  });

  it('never lets a template come to run a script deleted at the same moment: of the save and the delete, exactly one wins', async () => {
    const { admin } = server();
    for (let round = 0; round < 4; round++) {
      const script = await admin.post('/api/v1/scripts', { name: fx.unique('raced'), source: "log.info('event');" });
      expect(script.status).toBe(201);
      const [saved, deleted] = await Promise.all([
        admin.post(BASE, { ...fx.templateBody(target), trigger: { script_id: script.body.id } }),
        admin.delete(`/api/v1/scripts/${script.body.id}`),
      ]);
      expect([saved.status, deleted.status].sort(), JSON.stringify([saved.body, deleted.body])).toEqual(saved.status === 201 ? [201, 409] : [204, 400]);
      if (saved.status === 201) expect(deleted.body.code).toBe('script_in_use');
      else expect(fieldsOf(saved)).toContain('trigger.script_id');
    }
  });

  it('needs the open approval said explicitly: an empty approver list alone is a 400 naming the field', async () => {
    const { admin } = server();
    const minimal = { name: fx.unique('no-approvers'), app_id: target.appId, mapping_ids: [target.mappingId], allowed_durations: [60] };
    for (const body of [minimal, { ...minimal, approver_group_ids: [] }, { ...minimal, approval: 'groups' }]) {
      const refused = await admin.post(BASE, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(fieldsOf(refused)).toEqual(['approver_group_ids']);
      expect(refused.body.detail).toContain('approval');
    }
    const group = await fx.group();
    const both = await admin.post(BASE, { ...minimal, approval: 'open', approver_group_ids: [group] });
    expect(both.status).toBe(400);
    expect(fieldsOf(both)).toEqual(['approver_group_ids']);
    expect((await admin.post(BASE, { ...minimal, approval: 'anyone' })).status).toBe(400);

    // A groups template cannot fall into open by losing its groups, only by saying so.
    const t = await fx.createTemplate(target, { approver_group_ids: [group] });
    expect(t.approval).toBe('groups');
    const emptied = await admin.patch(`${BASE}/${t.id}`, { approver_group_ids: [] });
    expect(emptied.status).toBe(400);
    expect(fieldsOf(emptied)).toEqual(['approver_group_ids']);
    const opened = await admin.patch(`${BASE}/${t.id}`, { approval: 'open', approver_group_ids: [] });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    expect(opened.body).toMatchObject({ approval: 'open', approver_group_ids: [] });
    // An open template stays open through unrelated changes; naming groups makes it a groups one.
    expect((await admin.patch(`${BASE}/${t.id}`, { description: 'still open' })).body.approval).toBe('open');
    expect((await admin.patch(`${BASE}/${t.id}`, { approver_group_ids: [group] })).body.approval).toBe('groups');
  });

  it('flags a template whose approver groups have no active member', async () => {
    const { admin } = server();
    const [empty, staffed] = [await fx.group(), await fx.group()];
    const t = await fx.createTemplate(target, { approver_group_ids: [empty] });
    expect(t.warnings).toEqual(['approver_groups_without_active_members']);

    const member = await fx.user();
    await fx.addMember(staffed, member.id);
    const patched = await admin.patch(`${BASE}/${t.id}`, { approver_group_ids: [empty, staffed] });
    expect(patched.body.warnings).toEqual([]);

    // Disabled users and expired memberships do not count.
    expect((await admin.patch(`/api/v1/users/${member.id}`, { disabled: true })).status).toBe(200);
    expect((await admin.get(`${BASE}/${t.id}`)).body.warnings).toEqual(['approver_groups_without_active_members']);
    const later = await fx.user();
    await fx.addMember(empty, later.id, Date.now() + 60_000);
    expect((await admin.get(`${BASE}/${t.id}`)).body.warnings).toEqual([]);
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + 120_000);
    const listed = (await admin.get(`${BASE}?limit=200`)).body.items.find((x: { id: string }) => x.id === t.id);
    expect(listed.warnings).toEqual(['approver_groups_without_active_members']);
  });

  it('bumps the version on every change, and not on a PATCH that changes nothing', async () => {
    const { admin } = server();
    const t = await fx.createTemplate(target, { allowed_durations: [60, 30] });
    const versionAfter = async (change: Record<string, unknown>) => {
      const res = await admin.patch(`${BASE}/${t.id}`, change);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.version as number;
    };
    expect(await versionAfter({ description: 'one' })).toBe(2);
    expect(await versionAfter({ enabled: false })).toBe(3);
    expect(await versionAfter({ enabled: false, description: 'one' })).toBe(3);
    expect(await versionAfter({ allowed_durations: [30, 60] })).toBe(3);
    expect(await versionAfter({})).toBe(3);
    expect(await versionAfter({ custom_fields: [{ key: 'why', label: 'Why', type: 'text' }] })).toBe(4);
    expect(await versionAfter({ custom_fields: [{ key: 'why', label: 'Why', type: 'text', required: false }] })).toBe(4);
  });

  it('checks a PATCH against every rule on the merged result', async () => {
    const { admin } = server();
    const requesters = await fx.group();
    const t = await fx.createTemplate(target, { escalation_after_mins: 10, escalation_group_id: await fx.group() });
    const other = await fx.appWithMapping();
    const cases: [Record<string, unknown>, string[]][] = [
      [{ auto_approve: true }, ['auto_approve']],
      [{ escalation_group_id: null }, ['escalation_group_id']],
      [{ escalation_after_mins: null }, ['escalation_after_mins']],
      [{ app_id: other.appId }, ['mapping_ids.0']],
      [{ mapping_ids: [] }, ['mapping_ids']],
      [{ name: '' }, ['name']],
      [{ version: 7 }, ['body']],
    ];
    for (const [change, fields] of cases) {
      const res = await admin.patch(`${BASE}/${t.id}`, change);
      expect(res.status, JSON.stringify(change)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      if (fields[0] !== 'body') expect(fieldsOf(res), JSON.stringify(change)).toEqual(fields);
    }
    expect((await admin.get(`${BASE}/${t.id}`)).body.version).toBe(1);
    // Moving app and mappings together, or adding requesters with auto-approval, is fine.
    const moved = await admin.patch(`${BASE}/${t.id}`, { app_id: other.appId, mapping_ids: [other.mappingId] });
    expect(moved.status).toBe(200);
    const auto = await admin.patch(`${BASE}/${t.id}`, { auto_approve: true, requester_group_ids: [requesters] });
    expect(auto.body).toMatchObject({ auto_approve: true, requester_group_ids: [requesters], version: 3 });
  });

  // One case per rule: a change to a valid body, and the field the 400 must name.
  const rules: [string, () => Promise<Record<string, unknown>>, string][] = [
    ['an empty name', async () => ({ name: '  ' }), 'name'],
    ['a missing app_id', async () => ({ app_id: undefined }), 'app_id'],
    ['an unknown application', async () => ({ app_id: UNKNOWN_ID }), 'app_id'],
    [
      'a deleted application',
      async () => {
        const appId = await fx.app();
        expect((await server().admin.delete(`/api/v1/applications/${appId}`)).status).toBe(204);
        return { app_id: appId };
      },
      'app_id',
    ],
    ['no mappings', async () => ({ mapping_ids: [] }), 'mapping_ids'],
    ['a repeated mapping', async () => ({ mapping_ids: [target.mappingId, target.mappingId] }), 'mapping_ids'],
    ['an unknown mapping', async () => ({ mapping_ids: [UNKNOWN_ID] }), 'mapping_ids.0'],
    ['a mapping of another application', async () => ({ mapping_ids: [target.mappingId, (await fx.appWithMapping()).mappingId] }), 'mapping_ids.1'],
    ['no durations', async () => ({ allowed_durations: [] }), 'allowed_durations'],
    ['a repeated duration', async () => ({ allowed_durations: [60, 60] }), 'allowed_durations'],
    ['a zero duration', async () => ({ allowed_durations: [0] }), 'allowed_durations.0'],
    ['a negative duration', async () => ({ allowed_durations: [60, -5] }), 'allowed_durations.1'],
    ['a fractional duration', async () => ({ allowed_durations: [1.5] }), 'allowed_durations.0'],
    ['a duration over a year', async () => ({ allowed_durations: [525_601] }), 'allowed_durations.0'],
    ['an unknown approver group', async () => ({ approver_group_ids: [UNKNOWN_ID] }), 'approver_group_ids.0'],
    ['a system approver group', async () => ({ approver_group_ids: [await fx.systemGroup()] }), 'approver_group_ids.0'],
    ['a repeated approver group', async () => ({ approver_group_ids: [...Array(2).fill(await fx.group())] }), 'approver_group_ids'],
    ['a requester group with the reserved prefix', async () => ({ requester_group_ids: [await fx.group(), await fx.systemGroup({ flagged: false })] }), 'requester_group_ids.1'],
    ['an unknown requester group', async () => ({ requester_group_ids: [UNKNOWN_ID] }), 'requester_group_ids.0'],
    ['a system escalation group', async () => ({ escalation_after_mins: 10, escalation_group_id: await fx.systemGroup() }), 'escalation_group_id'],
    ['an unknown escalation group', async () => ({ escalation_after_mins: 10, escalation_group_id: UNKNOWN_ID }), 'escalation_group_id'],
    ['auto-approval open to everyone', async () => ({ auto_approve: true }), 'auto_approve'],
    ['an escalation delay without a group', async () => ({ escalation_after_mins: 10 }), 'escalation_group_id'],
    ['an escalation group without a delay', async () => ({ escalation_group_id: await fx.group() }), 'escalation_after_mins'],
    ['an escalation delay over a week', async () => ({ escalation_after_mins: 10_081, escalation_group_id: await fx.group() }), 'escalation_after_mins'],
    ['a zero escalation delay', async () => ({ escalation_after_mins: 0, escalation_group_id: await fx.group() }), 'escalation_after_mins'],
    ['an unknown notification policy', async () => ({ notification_policy: 'everyone' }), 'notification_policy'],
    ['a notification count of 0', async () => ({ notification_count: 0 }), 'notification_count'],
    ['a notification count over 100', async () => ({ notification_count: 101 }), 'notification_count'],
    ['a custom field key with capitals', async () => ({ custom_fields: [{ key: 'Ticket', label: 'T', type: 'text' }] }), 'custom_fields.0.key'],
    [
      'a repeated custom field key',
      async () => ({ custom_fields: [{ key: 'a', label: 'A', type: 'text' }, { key: 'a', label: 'B', type: 'checkbox' }] }),
      'custom_fields.1.key',
    ],
    ['a custom field label over 200 characters', async () => ({ custom_fields: [{ key: 'a', label: 'x'.repeat(201), type: 'text' }] }), 'custom_fields.0.label'],
    ['a dropdown without options', async () => ({ custom_fields: [{ key: 'a', label: 'A', type: 'dropdown' }] }), 'custom_fields.0.options'],
    ['a dropdown repeating an option', async () => ({ custom_fields: [{ key: 'a', label: 'A', type: 'dropdown', options: ['x', 'x'] }] }), 'custom_fields.0.options'],
    ['options on a checkbox', async () => ({ custom_fields: [{ key: 'a', label: 'A', type: 'checkbox', options: ['x'] }] }), 'custom_fields.0.options'],
    ['a trigger without a script', async () => ({ trigger: { failure_mode: 'retry' } }), 'trigger.script_id'],
    ['a trigger naming no script', async () => ({ trigger: { script_id: UNKNOWN_ID } }), 'trigger.script_id'],
    ['an unknown trigger failure mode', async () => ({ trigger: { script_id: UNKNOWN_ID, failure_mode: 'panic' } }), 'trigger.failure_mode'],
    ['more than 20 trigger retries', async () => ({ trigger: { script_id: UNKNOWN_ID, max_retries: 21 } }), 'trigger.max_retries'],
  ];

  it.each(rules)('refuses %s with a 400 naming the field', async (_name, change, field) => {
    const res = await server().admin.post(BASE, fx.templateBody(target, await change()));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe('validation_failed');
    expect(fieldsOf(res)).toEqual([field]);
  });

  it('names every problem at once, and refuses unknown attributes and malformed ids', async () => {
    const { admin } = server();
    const res = await admin.post(BASE, fx.templateBody(target, { app_id: UNKNOWN_ID, approver_group_ids: [UNKNOWN_ID], auto_approve: true }));
    expect(res.status).toBe(400);
    expect(fieldsOf(res).sort()).toEqual(['app_id', 'approver_group_ids.0', 'auto_approve']);
    expect((await admin.post(BASE, fx.templateBody(target, { owner: 'me' }))).status).toBe(400);
    expect((await admin.get(`${BASE}/not-a-uuid`)).status).toBe(400);
    expect((await admin.get(`${BASE}?enabled=maybe`)).status).toBe(400);
    expect((await admin.get(`${BASE}?cursor=abc`)).status).toBe(400);
    expect((await admin.get(`${BASE}/${UNKNOWN_ID}`)).status).toBe(404);
  });

  it('paginates the list with a cursor and filters by enabled and app_id', async () => {
    const { admin } = server();
    const own = await fx.appWithMapping();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await fx.createTemplate(own, { enabled: i % 2 === 0 })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; next_cursor: string | null } } = await admin.get(`${BASE}?app_id=${own.appId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((t) => t.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(ids);
    const enabled = await admin.get(`${BASE}?app_id=${own.appId}&enabled=true`);
    expect(enabled.body.items.map((t: { id: string }) => t.id)).toEqual([ids[0], ids[2], ids[4]]);
    const disabled = await admin.get(`${BASE}?app_id=${own.appId}&enabled=false`);
    expect(disabled.body.items.map((t: { id: string }) => t.id)).toEqual([ids[1], ids[3]]);
  });

  it('lists what a user may request: open templates and those of their live groups', async () => {
    const { admin } = server();
    const own = await fx.appWithMapping();
    const [requesters, approvers, managers] = [await fx.group(), await fx.group('On-call leads'), await fx.group('Engineering managers')];
    const [member, outsider, temporary] = [await fx.user(), await fx.user(), await fx.user()];
    await fx.addMember(requesters, member.id);
    const soon = Date.now() + 60 * 60_000;
    await fx.addMember(requesters, temporary.id, soon);

    const open = await fx.createTemplate(own, { name: 'Open', custom_fields: [{ key: 'ticket', label: 'Ticket', type: 'text', required: true }] });
    const restricted = await fx.createTemplate(own, {
      name: 'Restricted',
      requester_group_ids: [requesters],
      approver_group_ids: [approvers],
      escalation_after_mins: 30,
      escalation_group_id: managers,
      allowed_durations: [240, 60],
      auto_approve: true,
    });
    await fx.createTemplate(own, { name: 'Disabled', enabled: false });
    const deleted = await fx.createTemplate(own, { name: 'Deleted' });
    expect((await admin.delete(`${BASE}/${deleted.id}`)).status).toBe(204);
    const goneApp = await fx.appWithMapping();
    await fx.createTemplate(goneApp, { name: 'App gone' });
    // Marked deleted in the table: deleting an application whose mappings a template uses is the applications module's call.
    await server().app.core.db.updateTable('applications').set({ deleted_at: Date.now() }).where('id', '=', goneApp.appId).execute();

    const requestable = async (client: ApiClient) => {
      const res = await client.get(`${BASE}/requestable?limit=200`);
      expect(res.status).toBe(200);
      return (res.body.items as { id: string; app: { id: string } }[]).filter((t) => t.app.id === own.appId || t.app.id === goneApp.appId);
    };

    const forMember = await requestable(member.client);
    expect(forMember.map((t) => t.id)).toEqual([open.id, restricted.id]);
    expect(forMember[0]).toEqual({
      id: open.id,
      version: 1,
      name: 'Open',
      description: '',
      app: { id: own.appId, name: expect.any(String) },
      allowed_durations: [60],
      require_justification: true,
      custom_fields: [{ key: 'ticket', label: 'Ticket', type: 'text', required: true }],
      auto_approve: false,
      open: true,
      approver_groups: [],
      escalation_after_mins: null,
      escalation_group: null,
      pending_ttl_mins: null,
      break_glass: false,
      break_glass_max_mins: null,
      stages: [{ position: 1, open: true, approver_groups: [], quorum: 1, escalation_after_mins: null, escalation_group: null }],
      allow_extension: false,
      extension_requires_approval: true,
      max_total_mins: null,
      max_start_delay_mins: null,
      mine: null,
    });
    expect(forMember[1]).toMatchObject({
      name: 'Restricted',
      allowed_durations: [60, 240],
      auto_approve: true,
      open: false,
      approver_groups: [{ id: approvers, name: 'On-call leads' }],
      escalation_after_mins: 30,
      escalation_group: { id: managers, name: 'Engineering managers' },
    });
    expect(forMember[1]).not.toHaveProperty('requester_group_ids');
    expect((await requestable(outsider.client)).map((t) => t.id)).toEqual([open.id]);
    expect((await requestable(temporary.client)).map((t) => t.id)).toEqual([open.id, restricted.id]);

    // An expired membership no longer counts.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(soon + 60_000);
    expect((await requestable(temporary.client)).map((t) => t.id)).toEqual([open.id]);
    expect((await requestable(member.client)).map((t) => t.id)).toEqual([open.id, restricted.id]);
  });

  it('paginates the requestable list', async () => {
    const own = await fx.appWithMapping();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await fx.createTemplate(own)).id);
    const { client } = await fx.user();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: { id: string }[]; next_cursor: string | null } } = await client.get(`${BASE}/requestable?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((t) => t.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen.filter((id) => ids.includes(id))).toEqual(ids);
    expect(new Set(seen).size).toBe(seen.length);
    expect((await client.get(`${BASE}/requestable?limit=0`)).status).toBe(400);
  });

  it('keeps the admin endpoints to admins, and needs a caller for everything', async () => {
    const t = await fx.createTemplate(target);
    const { client } = await fx.user();
    expect((await client.get(BASE)).status).toBe(403);
    expect((await client.post(BASE, fx.templateBody(target))).status).toBe(403);
    expect((await client.get(`${BASE}/${t.id}`)).status).toBe(403);
    expect((await client.patch(`${BASE}/${t.id}`, { name: 'mine now' })).status).toBe(403);
    expect((await client.delete(`${BASE}/${t.id}`)).status).toBe(403);
    expect((await client.get(`${BASE}/requestable`)).status).toBe(200);
    expect((await server().admin.get(`${BASE}/${t.id}`)).body).toMatchObject({ name: t.name, version: 1 });

    const anonymous = new ApiClient(server().url);
    expect((await anonymous.get(BASE)).status).toBe(401);
    expect((await anonymous.post(BASE, fx.templateBody(target))).status).toBe(401);
    expect((await anonymous.get(`${BASE}/${t.id}`)).status).toBe(401);
    expect((await anonymous.patch(`${BASE}/${t.id}`, { name: 'x' })).status).toBe(401);
    expect((await anonymous.delete(`${BASE}/${t.id}`)).status).toBe(401);
    expect((await anonymous.get(`${BASE}/requestable`)).status).toBe(401);
  });

  it('audits creation, each change with before and after, and deletion', async () => {
    const { admin } = server();
    const t = await fx.createTemplate(target, { description: 'before' });
    await admin.patch(`${BASE}/${t.id}`, { description: 'after' });
    await admin.patch(`${BASE}/${t.id}`, { description: 'after' });
    await admin.delete(`${BASE}/${t.id}`);
    const events = (await admin.get(`/api/v1/audit-events?target_id=${t.id}`)).body.items.reverse();
    expect(events.map((e: { action: string }) => e.action)).toEqual(['template.created', 'template.updated', 'template.deleted']);
    expect(events[0]).toMatchObject({ target_type: 'template', actor_type: 'user', data: { name: t.name, description: 'before', version: 1, mapping_ids: [target.mappingId] } });
    expect(events[1].data.before).toMatchObject({ description: 'before', version: 1 });
    expect(events[1].data.after).toMatchObject({ description: 'after', version: 2 });
    expect(events[2].data).toMatchObject({ description: 'after', version: 2 });
    expect((await admin.get('/api/v1/audit-head')).status).toBe(200);
  });

  it('calls the retirement hook inside the transaction that deletes or disables a template', async () => {
    const { core } = server().app;
    const actor: Actor = { userId: (await fx.user()).id, isAdmin: true, via: 'token', mustChangePassword: false };
    const calls: [string, string, number][] = [];
    let fail = false;
    const service = createTemplatesService(core, {
      templateRetired: async (trx: Tx, template: Template, reason) => {
        const row = await trx.selectFrom('access_request_templates').select(['deleted_at', 'enabled']).where('id', '=', template.id).executeTakeFirstOrThrow();
        calls.push([template.id, reason, row.deleted_at === null ? row.enabled : -1]);
        if (fail) throw new Error('revocation failed');
      },
    });
    const a = await service.create(actor, createTemplateIn.parse(fx.templateBody(target)));
    await service.update(actor, a.id, { description: 'still enabled' });
    await service.update(actor, a.id, { enabled: false });
    await service.update(actor, a.id, { description: 'already disabled' });
    await service.remove(actor, a.id);
    expect(calls).toEqual([
      [a.id, 'disabled', 0],
      [a.id, 'deleted', -1],
    ]);

    // A failing hook undoes the deletion with it.
    const b = await service.create(actor, createTemplateIn.parse(fx.templateBody(target)));
    fail = true;
    await expect(service.remove(actor, b.id)).rejects.toThrow('revocation failed');
    expect(await loadTemplateForRequest(core.db, b.id)).toMatchObject({ id: b.id, version: 1, mapping_ids: [target.mappingId] });
  });

  it('documents its endpoints in the OpenAPI document', async () => {
    const res = await new ApiClient(server().url).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = typeof res.body === 'string' ? JSON.parse(res.body) : res.body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([BASE, `${BASE}/requestable`, `${BASE}/{id}`]));
    expect(doc.paths[BASE].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['enabled', 'app_id', 'cursor', 'limit']));
  });

  it('loads a live template for the requests engine, with its links parsed', async () => {
    const [approvers, requesters] = [await fx.group(), await fx.group()];
    const t = await fx.createTemplate(target, {
      approver_group_ids: [approvers],
      requester_group_ids: [requesters],
      allowed_durations: [120, 30],
      custom_fields: [{ key: 'env', label: 'Env', type: 'dropdown', options: ['a', 'b'] }],
    });
    const loaded = await loadTemplateForRequest(server().app.core.db, t.id);
    expect(loaded).toMatchObject({
      id: t.id,
      enabled: true,
      app_id: target.appId,
      mapping_ids: [target.mappingId],
      approver_group_ids: [approvers],
      requester_group_ids: [requesters],
      allowed_durations: [30, 120],
      custom_fields: [{ key: 'env', label: 'Env', type: 'dropdown', required: false, options: ['a', 'b'] }],
      require_justification: true,
      trigger: null,
      version: 1,
      deleted_at: null,
    });
    await server().admin.delete(`${BASE}/${t.id}`);
    expect(await loadTemplateForRequest(server().app.core.db, t.id)).toBeUndefined();
    expect(await loadTemplateForRequest(server().app.core.db, UNKNOWN_ID)).toBeUndefined();
  });
});
