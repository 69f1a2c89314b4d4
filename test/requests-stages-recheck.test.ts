import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createGroup, createPerson, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startHttpReceiver } from './helpers/receivers.ts';

const receiver = await startHttpReceiver();
afterAll(() => receiver.close());

const PROVISIONER = `
const res = await http.fetch('${receiver.url}/provision', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ event: config.get('trigger_event'), request: config.get('request_id') }),
});
if (res.status >= 300) throw new Error('the external system refused: HTTP ' + res.status);
`;

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** DESIGN: after a blocking trigger task, the re-check covers every approval that counted toward the final stage's quorum. */
describeEachDialect('approval stages: the re-check after a blocking trigger task covers every counted approval', (server) => {
  let s: AccessSetup;
  let scriptId: string;
  let release: (() => void) | null = null;
  beforeAll(async () => {
    s = await setUpAccess(server());
    const script = await server().admin.post('/api/v1/scripts', { name: 'stage provisioner', source: PROVISIONER, allowed_hosts: ['127.0.0.1'] });
    expect(script.status, JSON.stringify(script.body)).toBe(201);
    scriptId = script.body.id;
  });
  afterEach(() => {
    release?.();
    release = null;
  });

  const db = () => server().app.core.db;
  const calls = (requestId: string) => receiver.requests.filter((r) => r.path === '/provision' && JSON.parse(r.body).request === requestId).map((r) => JSON.parse(r.body).event);
  const grantExists = async (id: string) => (await db().selectFrom('groups').select('id').where('name', '=', `__access_req_${id}`).execute()).length > 0;

  it('an earlier approval whose approver left the stage meanwhile stops counting: back to pending, undone, and another approval completes it', async () => {
    const [early, last, spare] = await Promise.all([createPerson(server(), 'early'), createPerson(server(), 'last'), createPerson(server(), 'spare')]);
    const groupId = await createGroup(server(), 'quorum-two', [early.id, last.id, spare.id]);
    const templateId = await s.template({
      escalation_after_mins: undefined,
      escalation_group_id: undefined,
      approver_group_ids: undefined,
      stages: [{ approver_group_ids: [groupId], quorum: 2 }],
      trigger: { script_id: scriptId, failure_mode: 'block', max_retries: 0 },
    });
    const requester = await createPerson(server(), 'req');
    const { body } = await requester.client.post('/api/v1/access-requests', validRequest(templateId));
    const id = body.id as string;
    expect((await early.client.post(`/api/v1/access-requests/${id}/approve`, {})).body.status).toBe('pending');
    await server().app.runWorkerOnce();

    release = receiver.hold();
    const answer = last.client.post(`/api/v1/access-requests/${id}/approve`, {});
    let answered: unknown;
    void answer.then((r) => (answered = r.body));
    await waitFor(`the task to call the external system (${JSON.stringify(answered)})`, () => calls(id).includes('approved') || answered !== undefined);
    expect(answered, JSON.stringify(answered)).toBeUndefined();
    // The first approver (not the one whose vote completed the quorum) leaves the group.
    expect((await server().admin.request('DELETE', `/api/v1/groups/${groupId}/members/${early.id}`)).status).toBeLessThan(300);
    release!();
    release = null;

    const approved = await answer;
    expect(approved.status, JSON.stringify(approved.body)).toBe(409);
    expect(approved.body.code).toBe('provisioning_reverted');
    const seen = (await requester.client.get(`/api/v1/access-requests/${id}`)).body;
    expect(seen).toMatchObject({ status: 'pending', provisioning_error: expect.stringContaining('no longer stands') });
    expect(seen.approvals.map((a: { approver: { id: string } }) => a.approver.id)).toEqual([last.id]);
    expect(await grantExists(id)).toBe(false);
    await server().app.runWorkerOnce();
    expect(calls(id)).toContain('provisioning_reverted');

    // The remaining approval counts; one more completes the quorum.
    const again = await spare.client.post(`/api/v1/access-requests/${id}/approve`, {});
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.status).toBe('approved');
    expect(await grantExists(id)).toBe(true);
  });
}, { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_SCRIPT_WORKERS: '1' });
