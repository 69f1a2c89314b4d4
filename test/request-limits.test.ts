import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGroup, createPerson, PASSWORD, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startSecondProcess, type RunningInterim } from './helpers/interim-process.ts';

const PER_MINUTE = 3;
const EXTRA = 9;

/**
 * The request-side limits under a burst: every submission is sent at once, split over
 * the in-process server and a second server process on the same database, so no single
 * connection (or event loop) serialises the burst.
 */
describeEachDialect(
  'request limits hold under concurrent submissions',
  (server) => {
    let s: AccessSetup;
    let second: RunningInterim;
    beforeAll(async () => {
      s = await setUpAccess(server());
      second = await startSecondProcess(server());
    }, 60_000);
    afterAll(() => second?.stop());

    /** The same person signed in on both processes; submissions alternate between them. */
    async function onBothInstances(label: string) {
      const person = await createPerson(server(), label);
      const other = new ApiClient(second.url);
      expect((await other.signIn(person.email, PASSWORD)).status).toBe(200);
      const clients = [person.client, other];
      return { person, submit: (i: number, body: unknown) => clients[i % 2]!.post('/api/v1/access-requests', body) };
    }

    const simpleTemplate = () => s.template({ require_justification: false, custom_fields: [] });
    const countBy = (statuses: number[]) => statuses.reduce<Record<number, number>>((n, st) => ({ ...n, [st]: (n[st] ?? 0) + 1 }), {});

    it(`accepts exactly ${PER_MINUTE} of ${PER_MINUTE + EXTRA} concurrent submissions across templates (INTERIM_REQUESTS_PER_MINUTE)`, async () => {
      const templates = await Promise.all(Array.from({ length: PER_MINUTE + EXTRA }, simpleTemplate));
      const { person: user, submit } = await onBothInstances('burst');
      const answers = await Promise.all(templates.map((templateId, i) => submit(i, { template_id: templateId, duration_mins: 60 })));
      expect(countBy(answers.map((a) => a.status))).toEqual({ 201: PER_MINUTE, 429: EXTRA });
      expect(answers.find((a) => a.status === 429)!.body.code).toBe('rate_limited');
      const stored = await server().app.core.db.selectFrom('access_requests').select('id').where('requester_id', '=', user.id).execute();
      expect(stored).toHaveLength(PER_MINUTE);
    });

    it('accepts exactly one of several concurrent submissions for the same template', async () => {
      const templateId = await simpleTemplate();
      const { submit } = await onBothInstances('twice');
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => submit(i, { template_id: templateId, duration_mins: 60 })));
      expect(countBy(answers.map((a) => a.status))).toEqual({ 201: 1, 409: 5 });
      const created = answers.find((a) => a.status === 201)!;
      for (const refused of answers.filter((a) => a.status === 409)) {
        expect(refused.body).toMatchObject({ code: 'request_already_open', existing_request_id: created.body.id });
      }
    });

    it('lets people who approve each other submit at the same moment (each locks only its own user row)', async () => {
      // Each submission locks its requester's row and notifies the others in-app; the
      // notification rows point at those users. A lock that also blocked foreign-key checks
      // deadlocked such a burst on PostgreSQL (500s).
      const people = await Promise.all(Array.from({ length: 6 }, (_, i) => createPerson(server(), `peer${i}`)));
      const peers = await createGroup(server(), 'peers', people.map((p) => p.id));
      const templateId = await s.template({ require_justification: false, custom_fields: [], approver_group_ids: [peers], notification_policy: 'all' });
      const answers = await Promise.all(people.map((p) => p.client.post('/api/v1/access-requests', { template_id: templateId, duration_mins: 60 })));
      expect(answers.map((a) => a.status)).toEqual(people.map(() => 201));
      const notices = await server().app.core.db.selectFrom('notifications').select('user_id').where('user_id', 'in', people.map((p) => p.id)).execute();
      expect(notices.length).toBeGreaterThanOrEqual(people.length * (people.length - 1));
    });

    it('refuses a bad submission before it takes a slot', async () => {
      const templateId = await simpleTemplate();
      const { submit } = await onBothInstances('typo');
      const bad = await Promise.all(Array.from({ length: PER_MINUTE + 1 }, (_, i) => submit(i, validRequest(templateId, { duration_mins: 7 }))));
      expect(bad.every((a) => a.status === 400)).toBe(true);
      expect((await submit(0, { template_id: templateId, duration_mins: 60 })).status).toBe(201);
    });
  },
  { INTERIM_REQUESTS_PER_MINUTE: String(PER_MINUTE) },
);
