import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { verifyWebhook } from '../src/modules/event-actions/webhook-signature.ts';
import { setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startHttpReceiver, startSmtpSink } from './helpers/receivers.ts';

const smtp = await startSmtpSink();
const receiver = await startHttpReceiver();
afterAll(async () => {
  await smtp.close();
  await receiver.close();
});

describeEachDialect(
  'outbox delivery after commit',
  (server) => {
    let s: AccessSetup;
    let secret: string;
    let actionId: string;
    beforeAll(async () => {
      s = await setUpAccess(server());
      const action = await server().admin.post('/api/v1/event-actions', {
        name: 'cmdb',
        event_types: ['access_request.submitted', 'access_request.approved', 'access_request.expired'],
        kind: 'webhook',
        config: { url: `${receiver.url}/hook` },
      });
      expect(action.status, JSON.stringify(action.body)).toBe(201);
      secret = action.body.signing_secret;
      actionId = action.body.id;
    });
    afterEach(() => {
      vi.useRealTimers();
      receiver.answer(200);
    });

    const deliver = () => server().app.runWorkerOnce();
    const hooksFor = (requestId: string) =>
      receiver.requests.filter((r) => JSON.parse(r.body).request.id === requestId).map((r) => ({ ...r, json: JSON.parse(r.body) }));

    it('sends signed webhooks and emails only after the change commits', async () => {
      const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
      expect(hooksFor(body.id)).toHaveLength(0);
      await deliver();
      const [hook] = hooksFor(body.id);
      expect(hook!.json).toMatchObject({ type: 'access_request.submitted', request: { id: body.id, requester: { id: s.requester.id } } });
      expect(hook!.headers['webhook-id']).toBe(hook!.json.id);
      expect(verifyWebhook(secret, hook!.headers as Record<string, string>, hook!.body, Math.floor(Date.now() / 1000))).toBe(true);
      expect(verifyWebhook(secret, hook!.headers as Record<string, string>, hook!.body.replace('submitted', 'approved'), Math.floor(Date.now() / 1000))).toBe(false);

      // Both approvers were notified (policy `all`), by mail and in the app.
      const mails = smtp.messages.filter((m) => m.raw.includes(body.id));
      expect(mails.flatMap((m) => m.to).sort()).toEqual([s.approver.email, s.secondApprover.email].sort());
      const inApp = await s.approver.client.get('/api/v1/notifications');
      expect(inApp.body.items.some((n: { request_id: string }) => n.request_id === body.id)).toBe(true);
      const detail = await s.requester.client.get(`/api/v1/access-requests/${body.id}`);
      expect(detail.body.notified_approvers.map((p: { id: string }) => p.id).sort()).toEqual([s.approver.id, s.secondApprover.id].sort());

      const deliveries = await server().admin.get(`/api/v1/deliveries?request_id=${body.id}`);
      expect(deliveries.body.items.every((d: { status: string }) => d.status === 'succeeded')).toBe(true);
    });

    it('retries a failing receiver with backoff, then dead-letters, and an admin can retry it', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const templateId = await s.template();
      receiver.answer(500);
      const { body } = await s.outsider.client.post('/api/v1/access-requests', validRequest(templateId));
      await deliver();
      const first = (await server().admin.get(`/api/v1/deliveries?request_id=${body.id}&channel=webhook`)).body.items[0];
      expect(first).toMatchObject({ status: 'pending', attempts: 1 });
      expect(first.last_error).toContain('500');
      expect(Date.parse(first.next_attempt_at)).toBeGreaterThan(Date.now() + 10_000);

      // Not yet due: nothing is sent again.
      const before = hooksFor(body.id).length;
      await deliver();
      expect(hooksFor(body.id)).toHaveLength(before);

      for (let i = 0; i < 12; i++) {
        vi.setSystemTime(Date.now() + 2 * 60 * 60_000);
        await deliver();
      }
      const dead = (await server().admin.get(`/api/v1/deliveries/${first.id}`)).body;
      expect(dead.status).toBe('dead');
      expect(dead.attempts).toBe(dead.max_attempts);
      // Every try carried the same event id, so the receiver can drop duplicates.
      expect(new Set(hooksFor(body.id).map((h) => h.headers['webhook-id'])).size).toBe(1);

      receiver.answer(200);
      expect((await server().admin.post(`/api/v1/deliveries/${first.id}/retry`, {})).status).toBe(200);
      await deliver();
      expect((await server().admin.get(`/api/v1/deliveries/${first.id}`)).body.status).toBe('succeeded');
    });

    it('holds an expiry delivery until the approval before it is settled', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const templateId = await s.template();
      const { body } = await s.escalationMember.client.post('/api/v1/access-requests', validRequest(templateId));
      await deliver();
      receiver.answer(503);
      const approved = await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
      await deliver();
      vi.setSystemTime(Date.parse(approved.body.expires_at) + 1);
      await deliver(); // expires the grant and queues `expired`, which must wait
      receiver.answer(200);
      await deliver(); // the approval is not due again yet: still nothing
      expect(hooksFor(body.id).filter((h) => h.json.type === 'access_request.expired')).toHaveLength(0);
      vi.setSystemTime(Date.now() + 10 * 60_000);
      await deliver(); // approval goes out now
      await deliver(); // then the expiry
      const types = hooksFor(body.id).filter((h) => h.headers['webhook-id']).map((h) => h.json.type);
      expect(types.lastIndexOf('access_request.approved')).toBeLessThan(types.indexOf('access_request.expired'));
      expect(types.at(-1)).toBe('access_request.expired');
      const history = await server().admin.get(`/api/v1/event-actions/${actionId}/deliveries`);
      expect(history.status).toBe(200);
      expect(history.body.items.length).toBeGreaterThan(0);
    });
  },
  { INTERIM_SMTP_URL: smtp.url, INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true' },
);
