import { afterEach, expect, it, vi } from 'vitest';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { verifyAuditChain } from '../src/modules/audit/audit.verify.ts';
import { createGroup, setUpAccess } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

const GRANTS = 60;

/**
 * Issue 11, target 4: two instances on one database expire the same due grants at the same
 * moment. Each claims its chunks with SKIP LOCKED (PostgreSQL) or waits for the write lock
 * (SQLite); either way every grant ends exactly once: one status change, one expired audit
 * event, one outbox event with its requester notification and e-mail, no grant group left.
 * On SQLite the two take turns at the one write lock (a busy write is retried without
 * blocking the event loop, src/db/database.ts), so the same assertions hold there too.
 */
describeEachDialect(
  'expiry on two instances at once',
  (server) => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('expires every grant exactly once, with one event and one notice each, and keeps the chain whole', async () => {
      const s = await setUpAccess(server());
      const requesters = await createGroup(server(), 'requesters', [s.requester.id]);
      // One template per grant: a person holds at most one active grant of a template (issue 12 §2).
      const templateIds: string[] = [];
      for (let i = 0; i < GRANTS; i++) templateIds.push(await s.template({ auto_approve: true, requester_group_ids: [requesters], require_justification: false, custom_fields: [] }));
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: false });
      const ids: string[] = [];
      for (let i = 0; i < GRANTS; i++) {
        const { status, body } = await s.requester.client.post('/api/v1/access-requests', { template_id: templateIds[i], duration_mins: 60 });
        expect(status, JSON.stringify(body)).toBe(201);
        expect(body.status).toBe('approved');
        ids.push(body.id);
      }
      // A second instance: its own pool (or SQLite connection) on the same database.
      const other = await buildApp(loadConfig(server().env!), { logger: false });
      try {
        vi.setSystemTime(Date.now() + 61 * 60_000);
        // Small chunks, so the two interleave many times.
        const [a, b] = await Promise.all([server().app.services.requests.expireDueGrants(7), other.services.requests.expireDueGrants(7)]);
        expect(a + b).toBe(GRANTS);
      } finally {
        await other.close();
      }
      const db = server().app.core.db;
      const statuses = await db.selectFrom('access_requests').select('status').where('id', 'in', ids).execute();
      expect(statuses.map((r) => r.status)).toEqual(ids.map(() => 'expired'));
      const audit = await db.selectFrom('audit_events').select('request_id').where('action', '=', 'access_request.expired').where('request_id', 'in', ids).execute();
      expect(audit.map((r) => r.request_id).sort()).toEqual([...ids].sort());
      const events = await db.selectFrom('outbox_events').select(['id', 'request_id']).where('type', '=', 'access_request.expired').where('request_id', 'in', ids).execute();
      expect(events.map((r) => r.request_id).sort()).toEqual([...ids].sort());
      const deliveries = await db.selectFrom('deliveries').select(['event_id', 'target']).where('event_id', 'in', events.map((e) => e.id)).execute();
      expect(deliveries.map((d) => d.event_id).sort()).toEqual(events.map((e) => e.id).sort());
      expect(new Set(deliveries.map((d) => d.target))).toEqual(new Set([`requester:${s.requester.email}`]));
      const notices = await db.selectFrom('notifications').select('event_id').where('event_id', 'in', events.map((e) => e.id)).execute();
      expect(notices.map((n) => n.event_id).sort()).toEqual(events.map((e) => e.id).sort());
      const grantGroups = await db.selectFrom('groups').select('id').where('name', 'in', ids.map((id) => `__access_req_${id}`)).execute();
      expect(grantGroups).toEqual([]);
      expect((await verifyAuditChain(db)).ok).toBe(true);
    });
  },
  { INTERIM_REQUESTS_PER_MINUTE: '1000' },
);
