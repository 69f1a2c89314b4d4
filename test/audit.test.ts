import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { verifyAuditChain } from '../src/modules/audit/audit.verify.ts';
import { csvCell } from '../src/modules/audit/audit.export.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

describeEachDialect('audit trail', (server) => {
  const password = 'a long enough password';
  const createUser = (email: string, name = 'Someone') => server().admin.post('/api/v1/users', { email, name, password, must_change_password: false });

  it('keeps one unbroken chain under concurrent writers', async () => {
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => createUser(`burst${i}@example.test`)));
    expect(results.every((r) => r.status === 201)).toBe(true);
    const verdict = await verifyAuditChain(server().app.core.db);
    expect(verdict).toMatchObject({ ok: true });
    const head = await server().admin.get('/api/v1/audit-head');
    expect(head.body.seq).toBe((verdict as { seq: number }).seq);
  });

  it('filters, paginates newest first, and records before/after values', async () => {
    const { admin } = server();
    const created = await createUser('audited@example.test', 'Before');
    await admin.patch(`/api/v1/users/${created.body.id}`, { name: 'After' });
    const page = await admin.get(`/api/v1/audit-events?target_id=${created.body.id}&limit=1`);
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(1);
    expect(page.body.items[0]).toMatchObject({ action: 'user.updated', actor_type: 'user', data: { before: { name: 'Before' }, after: { name: 'After' } } });
    const next = await admin.get(`/api/v1/audit-events?target_id=${created.body.id}&limit=1&cursor=${page.body.next_cursor}`);
    expect(next.body.items[0].action).toBe('user.created');
    expect(next.body.next_cursor).toBeNull();

    const byAction = await admin.get('/api/v1/audit-events?action=user.updated');
    expect(byAction.body.items.every((e: { action: string }) => e.action === 'user.updated')).toBe(true);
    const future = await admin.get(`/api/v1/audit-events?from=${encodeURIComponent('2999-01-01T00:00:00Z')}`);
    expect(future.body.items).toEqual([]);
  });

  it('exports NDJSON and CSV, defusing spreadsheet formulas', async () => {
    const { admin } = server();
    await createUser('formula@example.test', '=HYPERLINK("http://evil")');
    const ndjson = await admin.get('/api/v1/audit-events/export?format=ndjson&action=user.created');
    expect(ndjson.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (ndjson.body as string).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((a, b) => a - b));

    await admin.patch(`/api/v1/users/${lines.at(-1).target_id}`, { name: '=cmd|calc' });
    const csv = await admin.get('/api/v1/audit-events/export?format=csv&action=user.updated');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((csv.body as string).split('\r\n')[0]).toBe('seq,id,at,actor_type,actor_id,action,target_type,target_id,request_id,data,prev_hash,hash,actor_email,actor_name,target_name');
    expect(csvCell('=1+2')).toBe(`"'=1+2"`);
    expect(csvCell('-5')).toBe(`"'-5"`);
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a "quote", comma')).toBe('"a ""quote"", comma"');
  });

  it('refuses bad filters and non-admins', async () => {
    const { admin, url } = server();
    expect((await admin.get('/api/v1/audit-events?cursor=abc')).status).toBe(400);
    expect((await admin.get('/api/v1/audit-events?from=yesterday')).status).toBe(400);
    expect((await admin.get('/api/v1/audit-events/export?format=xml')).status).toBe(400);
    expect((await new ApiClient(url).get('/api/v1/audit-events')).status).toBe(401);
    await createUser('plain@example.test');
    const user = new ApiClient(url);
    await user.signIn('plain@example.test', password);
    expect((await user.get('/api/v1/audit-events')).status).toBe(403);
    expect((await user.get('/api/v1/audit-events/export')).status).toBe(403);
    expect((await user.get('/api/v1/audit-head')).status).toBe(403);
  });

  it('detects an edited row, a deleted row and a deleted tail', async () => {
    const { db } = server().app.core;
    await createUser('tamper1@example.test');
    await createUser('tamper2@example.test');
    const good = await verifyAuditChain(db);
    expect(good.ok).toBe(true);
    const head = good as { seq: number; hash: string };

    const victim = await db.selectFrom('audit_events').select(['seq', 'data']).where('seq', '=', 2).executeTakeFirstOrThrow();
    await db.updateTable('audit_events').set({ data: victim.data.replace('}', ',"x":1}') }).where('seq', '=', 2).execute();
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, seq: 2, problem: 'hash_mismatch' });
    await db.updateTable('audit_events').set({ data: victim.data }).where('seq', '=', 2).execute();

    const middle = await db.selectFrom('audit_events').selectAll().where('seq', '=', 3).executeTakeFirstOrThrow();
    await db.deleteFrom('audit_events').where('seq', '=', 3).execute();
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, seq: 4, problem: 'gap' });
    await db.insertInto('audit_events').values(middle).execute();
    expect((await verifyAuditChain(db)).ok).toBe(true);

    // Removing the tail and rewinding the head row is caught only by an exported head.
    const tail = await db.selectFrom('audit_events').selectAll().where('seq', '=', head.seq).executeTakeFirstOrThrow();
    await db.deleteFrom('audit_events').where('seq', '=', head.seq).execute();
    expect((await verifyAuditChain(db)).ok).toBe(false);
    await db.updateTable('audit_head').set({ seq: head.seq - 1, hash: tail.prev_hash }).where('id', '=', 1).execute();
    expect((await verifyAuditChain(db)).ok).toBe(true);
    expect(await verifyAuditChain(db, head)).toMatchObject({ ok: false });
    await db.insertInto('audit_events').values(tail).execute();
    await db.updateTable('audit_head').set({ seq: head.seq, hash: head.hash }).where('id', '=', 1).execute();
    expect(await verifyAuditChain(db, head)).toMatchObject({ ok: true });
  });

  it('`interim admin audit verify` reports an intact chain and a broken one', async () => {
    const { config } = server();
    const env = {
      ...process.env,
      INTERIM_MASTER_KEY: config.masterKey.toString('base64'),
      ...(config.database.kind === 'postgres' ? { DATABASE_URL: config.database.url } : { INTERIM_DATA_DIR: config.dataDir }),
    };
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/main.ts', 'admin', 'audit', ...args], { env, encoding: 'utf8' });
    const head = run('head');
    expect(head.status).toBe(0);
    const ok = run('verify', '--head', head.stdout.trim());
    expect(ok.stdout).toContain('audit chain intact');
    expect(ok.status).toBe(0);
    await server().app.core.db.updateTable('audit_events').set({ action: 'user.forged' }).where('seq', '=', 1).execute();
    const broken = run('verify');
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain('BROKEN at event 1');
  });
});
