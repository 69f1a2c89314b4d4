import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPerson, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startHttpReceiver, startSmtpSink } from './helpers/receivers.ts';

const smtp = await startSmtpSink();
const slack = await startHttpReceiver();
const external = await startHttpReceiver();
afterAll(async () => {
  await smtp.close();
  await slack.close();
  await external.close();
});

/** Each kind of event action, delivered by the dispatcher to real receivers; and round-robin under concurrency. */
describeEachDialect(
  'event actions end to end',
  (server) => {
    let s: AccessSetup;
    let templateId: string;
    beforeAll(async () => {
      s = await setUpAccess(server());
      templateId = await s.template();
      const admin = server().admin;
      const actions = [
        { name: 'slack', event_types: ['access_request.submitted'], template_id: templateId, kind: 'slack', config: { webhook_url: `${slack.url}/services/T000/B000/xyz` } },
        { name: 'cmdb mail', event_types: ['access_request.approved'], template_id: templateId, kind: 'email', config: { recipients: 'addresses', addresses: ['cmdb@example.test'] } },
      ];
      for (const action of actions) expect((await admin.post('/api/v1/event-actions', action)).status).toBe(201);
      const script = await admin.post('/api/v1/scripts', {
        name: 'notify external',
        source: `await http.fetch('${external.url}/hook', { method: 'POST', body: config.get('trigger_event') + ':' + config.get('field.ticket') });`,
        allowed_hosts: ['127.0.0.1'],
      });
      const scripted = await admin.post('/api/v1/event-actions', { name: 'script', event_types: ['access_request.denied'], template_id: templateId, kind: 'script', config: { script_id: script.body.id } });
      expect(scripted.status, JSON.stringify(scripted.body)).toBe(201);
    });

    it('posts a Block Kit message to Slack, with user text escaped', async () => {
      const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId, { justification: '<!channel> please <https://evil|click>' }));
      await server().app.runWorkerOnce();
      const message = slack.requests.map((r) => JSON.parse(r.body)).find((m) => JSON.stringify(m).includes(body.id));
      expect(message.blocks.length).toBeGreaterThan(1);
      const text = JSON.stringify(message);
      expect(text).toContain('&lt;!channel&gt;');
      expect(text).not.toContain('<!channel>');
      expect(text).toContain(`/requests/${body.id}`);
    });

    it('emails fixed addresses on approval and runs a script on denial', async () => {
      const { body } = await s.outsider.client.post('/api/v1/access-requests', validRequest(templateId));
      await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
      await server().app.runWorkerOnce();
      expect(smtp.messages.some((m) => m.to.includes('cmdb@example.test') && m.raw.includes(body.id))).toBe(true);

      const other = (await s.escalationMember.client.post('/api/v1/access-requests', validRequest(templateId, { fields: { ticket: 'INC-9' } }))).body.id;
      await s.approver.client.post(`/api/v1/access-requests/${other}/deny`, { comment: 'no' });
      await server().app.runWorkerOnce();
      expect(external.requests.map((r) => r.body)).toContain('denied:INC-9');
    });

    it('round_robin never gives two simultaneous submissions the same approver', async () => {
      const rr = await s.template({ notification_policy: 'round_robin' });
      const people = await Promise.all([createPerson(server(), 'rr1'), createPerson(server(), 'rr2')]);
      const [a, b] = await Promise.all(people.map((p) => p.client.post('/api/v1/access-requests', validRequest(rr))));
      const notified = await Promise.all(
        [a!.body.id, b!.body.id].map(async (id: string) => (await s.admin.client.get(`/api/v1/access-requests/${id}`)).body.notified_approvers.map((n: { id: string }) => n.id)),
      );
      expect(notified[0]).toHaveLength(1);
      expect(notified[1]).toHaveLength(1);
      expect(notified[0]![0]).not.toBe(notified[1]![0]);
      expect([...notified[0]!, ...notified[1]!].sort()).toEqual([s.approver.id, s.secondApprover.id].sort());
    });
  },
  { INTERIM_SMTP_URL: smtp.url, INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true' },
);
