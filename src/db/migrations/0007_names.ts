import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // Application names become unique among live applications, as group names are. Names
  // that already repeat keep the oldest as it is and give the others a " (2)", " (3)"…
  // suffix that no application has, so the index below can be built.
  const live: { id: string; name: string }[] = await db
    .selectFrom('applications')
    .select(['id', 'name'])
    .where('deleted_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const taken = new Set(live.map((app) => app.name));
  const kept = new Set<string>();
  for (const app of live) {
    if (!kept.has(app.name)) {
      kept.add(app.name);
      continue;
    }
    let n = 2;
    while (taken.has(`${app.name} (${n})`)) n++;
    const name = `${app.name} (${n})`;
    taken.add(name);
    await db.updateTable('applications').set({ name }).where('id', '=', app.id).execute();
  }
  await db.schema.createIndex('applications_name_live').on('applications').column('name').unique().where(sql.ref('deleted_at'), 'is', null).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
