import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { up as namesMigration } from '../src/db/migrations/0007_names.ts';
import { newId } from '../src/security/ids.ts';
import { createTestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

const redirect = { redirect_uris: ['https://app.example.test/cb'] };

describeEachDialect('application names are unique', (server) => {
  it('answers 409 application_name_taken on create and rename, and frees a deleted application’s name', async () => {
    const { admin } = server();
    const first = await admin.post('/api/v1/applications', { name: 'Payroll', ...redirect });
    expect(first.status).toBe(201);
    const again = await admin.post('/api/v1/applications', { name: 'Payroll', ...redirect });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'application_name_taken' });

    const other = await admin.post('/api/v1/applications', { name: 'Payroll staging', ...redirect });
    expect(other.status).toBe(201);
    const rename = await admin.patch(`/api/v1/applications/${other.body.id}`, { name: 'Payroll' });
    expect(rename.status).toBe(409);
    expect(rename.body.code).toBe('application_name_taken');
    // Renaming to its own name, or changing something else, is no conflict.
    expect((await admin.patch(`/api/v1/applications/${first.body.id}`, { name: 'Payroll', description: 'pay' })).status).toBe(200);

    const named = await server().app.core.db.selectFrom('applications').select('name').where('name', 'like', 'Payroll%').where('deleted_at', 'is', null).execute();
    expect(named.map((a) => a.name).sort()).toEqual(['Payroll', 'Payroll staging']);

    expect((await admin.delete(`/api/v1/applications/${first.body.id}`)).status).toBe(204);
    expect((await admin.post('/api/v1/applications', { name: 'Payroll', ...redirect })).status).toBe(201);
  });

  it('lets exactly one of concurrent creates with the same name win', async () => {
    const { admin } = server();
    const results = await Promise.all(Array.from({ length: 6 }, () => admin.post('/api/v1/applications', { name: 'Racer', ...redirect })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((r) => r.status === 409)) expect(r.body.code).toBe('application_name_taken');
    const rows = await server().app.core.db.selectFrom('applications').select('id').where('name', '=', 'Racer').execute();
    expect(rows).toHaveLength(1);
    const audit = await server().app.core.db.selectFrom('audit_events').select('target_id').where('action', '=', 'application.created').where('target_id', '=', rows[0]!.id).execute();
    expect(audit).toHaveLength(1);
  });
});

for (const dialect of dialectsUnderTest()) {
  describe(`migration 0007_names [${dialect}]`, () => {
    it('renames live duplicates (oldest keeps the name) so the unique index can be built', async () => {
      const test = await createTestDatabase(dialect);
      const database = openDatabase(test.target);
      try {
        const { db } = database;
        await migrateToLatest(db);
        // A database from before the rule: no index, and names that repeat.
        await db.schema.dropIndex('applications_name_live').execute();
        const at = (n: number) => ({ now: () => 1_700_000_000_000 + n });
        const insert = async (name: string, n: number, deletedAt: number | null = null) => {
          const id = newId(at(n));
          await db
            .insertInto('applications')
            .values({
              id,
              name,
              description: '',
              client_secret_hash: null,
              token_endpoint_auth_method: 'none',
              redirect_uris: '[]',
              post_logout_redirect_uris: '[]',
              grant_types: '["authorization_code"]',
              id_token_signed_response_alg: 'EdDSA',
              access_token_ttl_secs: 3600,
              id_token_ttl_secs: 3600,
              refresh_token_ttl_secs: 86400,
              first_party: 0,
              created_at: at(n).now(),
              updated_at: at(n).now(),
              deleted_at: deletedAt,
            })
            .execute();
          return id;
        };
        const oldest = await insert('Wiki', 1);
        const second = await insert('Wiki', 2);
        const third = await insert('Wiki', 3);
        const taken = await insert('Wiki (2)', 4);
        const gone = await insert('Wiki', 0, 1_700_000_000_000);

        await namesMigration(db);
        const names = Object.fromEntries((await db.selectFrom('applications').select(['id', 'name']).execute()).map((a) => [a.id, a.name]));
        expect(names).toEqual({ [oldest]: 'Wiki', [second]: 'Wiki (3)', [third]: 'Wiki (4)', [taken]: 'Wiki (2)', [gone]: 'Wiki' });
        await expect(insert('Wiki (3)', 5)).rejects.toThrow();
      } finally {
        await database.close();
        await test.drop();
      }
    });
  });
}
