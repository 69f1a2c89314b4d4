import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createGroup, createPerson, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startHttpReceiver } from './helpers/receivers.ts';

const receiver = await startHttpReceiver();
afterAll(() => receiver.close());

/** Provisions in an external system over HTTP; the receiver can keep it waiting (a slow system). */
const PROVISIONER = `
const res = await http.fetch('${receiver.url}/provision', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ event: config.get('trigger_event'), request: config.get('request_id') }),
});
if (res.status >= 300) throw new Error('the external system refused: HTTP ' + res.status);
`;

const SCRIPT_TIMEOUT_MS = 8000;
/** compose.ts: a started run may take its time limit plus 30 s. */
const DEADLINE_MS = SCRIPT_TIMEOUT_MS + 30_000;

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeEachDialect(
  'a blocking trigger task: the approval is checked again when the task returns',
  (server) => {
    let s: AccessSetup;
    let scriptId: string;
    let release: (() => void) | null = null;
    beforeAll(async () => {
      s = await setUpAccess(server());
      const script = await server().admin.post('/api/v1/scripts', { name: 'slow provisioner', source: PROVISIONER, allowed_hosts: ['127.0.0.1'] });
      expect(script.status, JSON.stringify(script.body)).toBe(201);
      scriptId = script.body.id;
    });
    afterEach(() => {
      release?.();
      release = null;
      vi.useRealTimers();
    });

    const db = () => server().app.core.db;
    const calls = (requestId: string) => receiver.requests.filter((r) => r.path === '/provision' && JSON.parse(r.body).request === requestId).map((r) => JSON.parse(r.body).event);
    const row = (id: string) => db().selectFrom('access_requests').select(['status', 'end_reason', 'provisioning_error', 'provisioning_deadline']).where('id', '=', id).executeTakeFirstOrThrow();
    const grantExists = async (id: string) => (await db().selectFrom('groups').select('id').where('name', '=', `__access_req_${id}`).execute()).length > 0;
    const outboxTypes = async (id: string) => (await db().selectFrom('outbox_events').select('type').where('request_id', '=', id).orderBy('id').execute()).map((e) => e.type);
    const blockingTemplate = (extra: Record<string, unknown> = {}) => s.template({ trigger: { script_id: scriptId, failure_mode: 'block', max_retries: 0 }, ...extra });

    /** A request whose approval is running its (held) trigger task when this returns. */
    async function approvalInFlight(templateId: string, approver = s.approver) {
      const requester = await createPerson(server(), 'req');
      const submitted = await requester.client.post('/api/v1/access-requests', validRequest(templateId));
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
      const id = submitted.body.id as string;
      await server().app.runWorkerOnce(); // `submitted` reaches the trigger before the hold
      release = receiver.hold();
      const answer = approver.client.post(`/api/v1/access-requests/${id}/approve`, {});
      await waitFor('the task to call the external system', () => calls(id).includes('approved'));
      return { id, requester, answer };
    }

    const retirements = [
      ['the template is disabled', (templateId: string) => server().admin.patch(`/api/v1/access-request-templates/${templateId}`, { enabled: false })],
      ['the template is deleted', (templateId: string) => server().admin.request('DELETE', `/api/v1/access-request-templates/${templateId}`)],
      ['the requester is disabled', (_t: string, requesterId: string) => server().admin.patch(`/api/v1/users/${requesterId}`, { disabled: true })],
    ] as const;

    it.each(retirements)('%s while the task runs: nothing is granted, the request ends and the trigger is told to undo', async (_what, retire) => {
      const templateId = await blockingTemplate();
      const { id, requester, answer } = await approvalInFlight(templateId);

      const retired = await retire(templateId, requester.id);
      expect(retired.status).toBeLessThan(300);
      expect(await row(id)).toMatchObject({ status: 'cancelled', end_reason: 'reverted' });
      release!();
      release = null;

      const approved = await answer;
      expect(approved.status).toBe(409);
      expect(await row(id)).toMatchObject({ status: 'cancelled', end_reason: 'reverted', provisioning_deadline: null });
      expect(await grantExists(id)).toBe(false);
      expect(await outboxTypes(id)).not.toContain('access_request.approved');
      expect(await outboxTypes(id)).not.toContain('access_request.revoked');

      await server().app.runWorkerOnce();
      expect(calls(id)).toContain('provisioning_reverted');
      const trigger = (await server().admin.get(`/api/v1/deliveries?request_id=${id}&channel=trigger`)).body.items as { status: string }[];
      expect(trigger.every((d) => d.status === 'succeeded')).toBe(true);
    });

    it('an approver who left the approver group meanwhile: back to pending for another approver, and undone', async () => {
      const approver = await createPerson(server(), 'leaving-approver');
      const groupId = await createGroup(server(), 'approvers-once', [approver.id, s.secondApprover.id]);
      const templateId = await blockingTemplate({ approver_group_ids: [groupId] });
      const { id, answer } = await approvalInFlight(templateId, approver);

      expect((await server().admin.request('DELETE', `/api/v1/groups/${groupId}/members/${approver.id}`)).status).toBeLessThan(300);
      release!();
      release = null;

      const approved = await answer;
      expect(approved.status).toBe(409);
      expect(approved.body.code).toBe('provisioning_reverted');
      expect(await row(id)).toMatchObject({ status: 'pending', end_reason: null, provisioning_error: 'the approver may no longer approve this request' });
      expect(await grantExists(id)).toBe(false);
      await server().app.runWorkerOnce();
      expect(calls(id)).toEqual(['submitted', 'approved', 'provisioning_reverted']);

      // Someone still eligible can approve it.
      const again = await s.secondApprover.client.post(`/api/v1/access-requests/${id}/approve`, {});
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(await grantExists(id)).toBe(true);
    });

    it('an auto-approval whose requester left the requester group meanwhile waits for an approver, and is undone', async () => {
      const requester = await createPerson(server(), 'auto-req');
      const requesters = await createGroup(server(), 'auto-requesters', [requester.id]);
      const templateId = await blockingTemplate({ auto_approve: true, requester_group_ids: [requesters] });
      release = receiver.hold();
      const submitting = requester.client.post('/api/v1/access-requests', validRequest(templateId));
      const idOf = async () => (await db().selectFrom('access_requests').select('id').where('requester_id', '=', requester.id).executeTakeFirst())?.id;
      await waitFor('the auto-approval to run its task', async () => {
        const id = await idOf();
        return id !== undefined && calls(id).includes('approved');
      });

      expect((await server().admin.request('DELETE', `/api/v1/groups/${requesters}/members/${requester.id}`)).status).toBeLessThan(300);
      release!();
      release = null;

      const submitted = await submitting;
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
      expect(submitted.body).toMatchObject({ status: 'pending', provisioning_error: 'the request no longer qualifies for auto-approval' });
      expect(await grantExists(submitted.body.id)).toBe(false);
      expect(await outboxTypes(submitted.body.id)).toEqual(['access_request.submitted', 'access_request.provisioning_reverted']);
    });

    it('a mapping changed meanwhile: the snapshot no longer holds, so the request ends', async () => {
      const holder = await createGroup(server(), 'holders');
      const mapping = await server().admin.post('/api/v1/mappings', { app_id: s.appId, claim: 'tier', value: 'gold', group_ids: [holder] });
      expect(mapping.status).toBe(201);
      const templateId = await blockingTemplate({ mapping_ids: [mapping.body.id] });
      const { id, answer } = await approvalInFlight(templateId);

      expect((await server().admin.patch(`/api/v1/mappings/${mapping.body.id}`, { value: 'platinum' })).status).toBe(200);
      release!();
      release = null;

      expect((await answer).status).toBe(409);
      expect(await row(id)).toMatchObject({ status: 'cancelled', end_reason: 'reverted', provisioning_error: 'a mapping the grant gives was changed or deleted' });
      expect(await grantExists(id)).toBe(false);
      expect(await outboxTypes(id)).toContain('access_request.provisioning_reverted');
      // The API says why, for the requester and the approvers.
      const seen = await s.admin.client.get(`/api/v1/access-requests/${id}`);
      expect(seen.body).toMatchObject({ status: 'cancelled', end_reason: 'reverted', provisioning_error: 'a mapping the grant gives was changed or deleted' });
    });

    it('a run past its deadline returns to pending with the undo; the late finish loses the race and undoes too', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const templateId = await blockingTemplate();
      const { id, answer } = await approvalInFlight(templateId);
      // The deadline was set when the run started: a time limit plus slack, not the queue allowance.
      await waitFor('the start to set the deadline', async () => ((await row(id)).provisioning_deadline ?? Infinity) <= Date.now() + DEADLINE_MS);

      vi.setSystemTime(Date.now() + DEADLINE_MS + 1000);
      expect(await server().app.services.provisioning.returnStuck()).toBeGreaterThanOrEqual(1);
      expect(await row(id)).toMatchObject({ status: 'pending', provisioning_error: 'the trigger task did not finish in time' });
      expect(await outboxTypes(id)).toContain('access_request.provisioning_reverted');

      release!();
      release = null;
      const approved = await answer;
      expect(approved.status).toBe(409);
      expect(approved.body.code).toBe('request_changed');
      expect(await grantExists(id)).toBe(false);
      expect((await outboxTypes(id)).filter((t) => t === 'access_request.provisioning_reverted')).toHaveLength(2);
      // Both undos reach the external system. They are ordered per request, and a worker pass
      // may end while the second is not yet claimable (the sandbox freeing its slot), so the
      // worker runs again, as it would on its schedule.
      const undos = () => calls(id).filter((e) => e === 'provisioning_reverted').length;
      const until = performance.now() + 10_000;
      while (undos() < 2 && performance.now() < until) {
        await server().app.runWorkerOnce();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const trigger = (await server().admin.get(`/api/v1/deliveries?request_id=${id}&channel=trigger`)).body.items;
      expect(undos(), JSON.stringify(trigger)).toBe(2);
    });

    it('a timed-out run that returns while a later approval is provisioning neither grants nor undoes', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const templateId = await blockingTemplate();
      const { id, answer: first } = await approvalInFlight(templateId);
      await waitFor('the start to set the deadline', async () => ((await row(id)).provisioning_deadline ?? Infinity) <= Date.now() + DEADLINE_MS);
      vi.setSystemTime(Date.now() + DEADLINE_MS + 1000);
      await server().app.services.provisioning.returnStuck();
      expect((await row(id)).status).toBe('pending');

      // Another approval begins; its run waits behind the first (one sandbox worker).
      const second = s.secondApprover.client.post(`/api/v1/access-requests/${id}/approve`, {});
      await waitFor('the second approval to begin', async () => (await row(id)).status === 'provisioning');
      release!();
      release = null;

      expect((await first).status).toBe(409);
      const approved = await second;
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      expect(await grantExists(id)).toBe(true);
      // Only the timeout sent an undo: the first run's late return did not undo the second's work.
      expect((await outboxTypes(id)).filter((t) => t === 'access_request.provisioning_reverted')).toHaveLength(1);
    });

    it('a run still waiting in the sandbox queue is not timed out; its deadline counts from when it starts', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const templateId = await blockingTemplate();
      // One sandbox worker (see the suite's env): this run holds it ...
      const running = await approvalInFlight(templateId);
      // ... and this one waits in the queue behind it.
      const requester = await createPerson(server(), 'queued-req');
      const submitted = await requester.client.post('/api/v1/access-requests', validRequest(templateId));
      expect(submitted.status).toBe(201);
      const queuedId = submitted.body.id as string;
      const queuedAnswer = s.approver.client.post(`/api/v1/access-requests/${queuedId}/approve`, {});
      await waitFor('the second approval to begin', async () => (await row(queuedId)).status === 'provisioning');
      expect(calls(queuedId)).not.toContain('approved');

      vi.setSystemTime(Date.now() + DEADLINE_MS + 1000);
      await server().app.services.provisioning.returnStuck();
      expect((await row(running.id)).status).toBe('pending'); // started: timed out
      expect((await row(queuedId)).status).toBe('provisioning'); // queued: not

      const startedNoEarlierThan = Date.now();
      release!();
      release = null;
      expect((await running.answer).status).toBe(409);
      const approved = await queuedAnswer;
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      expect(Date.parse(approved.body.approved_at)).toBeGreaterThanOrEqual(startedNoEarlierThan);
      expect(await grantExists(queuedId)).toBe(true);
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_SCRIPT_TIMEOUT_MS: String(SCRIPT_TIMEOUT_MS), INTERIM_SCRIPT_WORKERS: '1' },
);
