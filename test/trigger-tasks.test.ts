import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startHttpReceiver } from './helpers/receivers.ts';

const receiver = await startHttpReceiver();
afterAll(() => receiver.close());

/** Provisions in an external system over HTTP; fails when the system says no. */
const PROVISIONER = `
const res = await http.fetch('${receiver.url}/provision', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ event: config.get('trigger_event'), request: config.get('request_id'), user: config.get('requester_email') }),
});
if (res.status >= 300) throw new Error('the external system refused: HTTP ' + res.status);
log.info('provisioned', config.get('trigger_event'));
`;

describeEachDialect(
  'trigger tasks on request events',
  (server) => {
    let s: AccessSetup;
    let scriptId: string;
    beforeAll(async () => {
      s = await setUpAccess(server());
      const script = await server().admin.post('/api/v1/scripts', { name: 'provisioner', source: PROVISIONER, allowed_hosts: ['127.0.0.1'] });
      expect(script.status, JSON.stringify(script.body)).toBe(201);
      scriptId = script.body.id;
    });
    afterEach(() => {
      receiver.answer(200);
      vi.useRealTimers();
    });

    const calls = (requestId: string) => receiver.requests.filter((r) => r.path === '/provision' && JSON.parse(r.body).request === requestId).map((r) => JSON.parse(r.body).event);
    const grantExists = async (requestId: string) =>
      (await server().app.core.db.selectFrom('groups').select('id').where('name', '=', `__access_req_${requestId}`).execute()).length === 1;

    it('block: a failing task aborts the approval and the approver sees why; a working one grants', async () => {
      const templateId = await s.template({ trigger: { script_id: scriptId, failure_mode: 'block', max_retries: 2 } });
      const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
      await server().app.runWorkerOnce(); // `submitted` runs the task too, as in retry mode
      expect(calls(body.id)).toEqual(['submitted']);

      receiver.answer(500);
      const refused = await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
      expect(refused.status).toBe(502);
      expect(refused.body.code).toBe('provisioning_failed');
      expect(refused.body.detail).toContain('the external system refused: HTTP 500');
      expect((await s.approver.client.get(`/api/v1/access-requests/${body.id}`)).body.status).toBe('pending');
      expect(await grantExists(body.id)).toBe(false);

      receiver.answer(200);
      const approved = await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
      expect(approved.status).toBe(200);
      expect(approved.body.status).toBe('approved');
      expect(await grantExists(body.id)).toBe(true);
      // The blocking run already happened; `approved` is not queued again.
      await server().app.runWorkerOnce();
      // `activated` follows the approval at once and runs the task too (not blocking).
      await server().app.runWorkerOnce();
      expect(calls(body.id)).toEqual(['submitted', 'approved', 'approved', 'activated']);

      const runs = await server().admin.get(`/api/v1/script-runs?request_id=${body.id}`);
      expect(runs.body.items.map((r: { status: string }) => r.status).sort()).toEqual(['failed', 'succeeded', 'succeeded', 'succeeded']); // the blocking runs, then `activated`
    });

    it('never blocks expiry or revocation: access goes, and the task is retried until it works', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const templateId = await s.template({ trigger: { script_id: scriptId, failure_mode: 'block', max_retries: 3 } });
      const { body } = await s.outsider.client.post('/api/v1/access-requests', validRequest(templateId));
      const approved = await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
      expect(approved.status).toBe(200);
      await server().app.runWorkerOnce(); // `submitted` goes out; later ones for this request queue behind it

      receiver.answer(500);
      vi.setSystemTime(Date.parse(approved.body.expires_at) + 1000);
      await server().app.runWorkerOnce();
      expect((await s.outsider.client.get(`/api/v1/access-requests/${body.id}`)).body.status).toBe('expired');
      expect(await grantExists(body.id)).toBe(false);
      // The task's first try (a pass may find no sandbox worker free yet on a busy machine).
      const firstTrigger = async () => (await server().admin.get(`/api/v1/deliveries?request_id=${body.id}&channel=trigger`)).body.items[0];
      for (let pass = 0; pass < 50 && (await firstTrigger()).attempts === 0; pass++) await server().app.runWorkerOnce();
      const pending = await firstTrigger();
      expect(pending).toMatchObject({ status: 'pending', attempts: 1, max_attempts: 4 });

      receiver.answer(200);
      vi.setSystemTime(Date.now() + 10 * 60_000);
      await server().app.runWorkerOnce();
      expect((await server().admin.get(`/api/v1/deliveries/${pending.id}`)).body.status).toBe('succeeded');
      expect(calls(body.id).filter((e) => e === 'expired').length).toBeGreaterThanOrEqual(2);
    });

    it('ignore: one try; a failed revocation-side task alerts the admins', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const templateId = await s.template({ trigger: { script_id: scriptId, failure_mode: 'ignore', max_retries: 0 } });
      const { body } = await s.secondApprover.client.post('/api/v1/access-requests', validRequest(templateId));
      await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
      // The submission's and the approval's tasks go through first (a pass may find no sandbox worker free yet on a busy machine).
      const settledTriggers = async () => (await server().admin.get(`/api/v1/deliveries?request_id=${body.id}&channel=trigger&status=succeeded`)).body.items.length;
      for (let pass = 0; pass < 50 && (await settledTriggers()) < 3; pass++) {
        await server().app.runWorkerOnce();
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await settledTriggers()).toBe(3); // submitted, approved, activated
      receiver.answer(500);
      expect((await s.approver.client.post(`/api/v1/access-requests/${body.id}/revoke`, { reason: 'done' })).status).toBe(200);
      const dead = async () => (await server().admin.get(`/api/v1/deliveries?request_id=${body.id}&channel=trigger&status=dead`)).body.items;
      for (let pass = 0; pass < 50 && (await dead()).length === 0; pass++) {
        await server().app.runWorkerOnce();
        await new Promise((r) => setTimeout(r, 100));
      }
      const delivery = await dead();
      expect(delivery).toHaveLength(1);
      expect(delivery[0].attempts).toBe(1);
      const alerts = await s.admin.client.get('/api/v1/notifications');
      expect(alerts.body.items.some((n: { kind: string; request_id: string }) => n.kind === 'delivery.dead_lettered' && n.request_id === body.id)).toBe(true);
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_SCRIPT_TIMEOUT_MS: '3000' },
);
