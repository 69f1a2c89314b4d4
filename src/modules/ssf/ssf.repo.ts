import type { Selectable } from 'kysely';
import type { DialectName, Executor, Tx } from '../../db/database.ts';
import { lockRow } from '../../db/locks.ts';
import type { SsfStreamsTable } from '../../db/schema.ts';
import { liveApplicationIdsQuery } from '../applications/applications.repo.ts';

export type StreamRow = Selectable<SsfStreamsTable>;

/** The transmitter's tables (ssf_streams, ssf_subjects, ssf_held, ssf_poll_queue): this module owns them. */
/** Users per look-up of the streams that follow them: bound parameters stay well below either dialect's limit. */
const SUBJECTS_PER_QUERY = 500;

export function createSsfRepo(db: Executor) {
  return {
    insertStream: async (row: StreamRow) => {
      await db.insertInto('ssf_streams').values(row).execute();
    },
    findStream: (id: string): Promise<StreamRow | undefined> => db.selectFrom('ssf_streams').selectAll().where('id', '=', id).executeTakeFirst(),
    listOfApp: (appId: string): Promise<StreamRow[]> => db.selectFrom('ssf_streams').selectAll().where('app_id', '=', appId).orderBy('id').execute(),
    countOfApp: async (appId: string): Promise<number> =>
      Number((await db.selectFrom('ssf_streams').select((eb) => eb.fn.countAll<number>().as('n')).where('app_id', '=', appId).executeTakeFirstOrThrow()).n),
    updateStream: async (id: string, patch: Partial<Omit<StreamRow, 'id' | 'app_id' | 'created_at'>>) => {
      await db.updateTable('ssf_streams').set(patch).where('id', '=', id).execute();
    },
    deleteStream: async (id: string) => {
      await db.deleteFrom('ssf_poll_queue').where('stream_id', '=', id).execute();
      await db.deleteFrom('ssf_held').where('stream_id', '=', id).execute();
      await db.deleteFrom('ssf_subjects').where('stream_id', '=', id).execute();
      await db.deleteFrom('ssf_streams').where('id', '=', id).execute();
    },

    addSubject: async (streamId: string, userId: string, now: number) => {
      await db.insertInto('ssf_subjects').values({ stream_id: streamId, user_id: userId, created_at: now }).onConflict((oc) => oc.columns(['stream_id', 'user_id']).doNothing()).execute();
    },
    /** A purged user is no one's subject any more. */
    forgetUser: async (userId: string) => {
      await db.deleteFrom('ssf_subjects').where('user_id', '=', userId).execute();
    },
    removeSubject: async (streamId: string, userId: string) => {
      await db.deleteFrom('ssf_subjects').where('stream_id', '=', streamId).where('user_id', '=', userId).execute();
    },

    /**
     * The streams not disabled that asked about these users, each row with the user it
     * follows (SUBJECTS_PER_QUERY users a query).
     * On PostgreSQL their rows are share-locked, so a resume (which locks the stream to
     * release what was held) either sees what this transaction holds or is seen as enabled.
     */
    streamsOfSubjects: async (dialect: DialectName, userIds: readonly string[]): Promise<(StreamRow & { subject_user_id: string })[]> => {
      const rows: (StreamRow & { subject_user_id: string })[] = [];
      for (let i = 0; i < userIds.length; i += SUBJECTS_PER_QUERY) {
        const q = db
          .selectFrom('ssf_streams as s')
          .innerJoin('ssf_subjects as j', 'j.stream_id', 's.id')
          .innerJoin(liveApplicationIdsQuery(db).as('a'), 'a.id', 's.app_id')
          .selectAll('s')
          .select('j.user_id as subject_user_id')
          .where('j.user_id', 'in', userIds.slice(i, i + SUBJECTS_PER_QUERY))
          .where('s.status', '<>', 'disabled')
          .orderBy('s.id');
        rows.push(...(await (dialect === 'postgres' ? q.forShare('s').execute() : q.execute())));
      }
      return rows;
    },

    hold: async (rows: { id: string; stream_id: string; event_id: string; user_id: string }[]) => {
      if (rows.length) await db.insertInto('ssf_held').values(rows).execute();
    },
    /** In the order the events were recorded (outbox ids are time-ordered), not the order they were held: one queued before the pause and held again by the performer goes first. */
    heldOf: (streamId: string) => db.selectFrom('ssf_held').selectAll().where('stream_id', '=', streamId).orderBy('event_id').orderBy('id').execute(),
    deleteHeld: async (streamId: string) => {
      await db.deleteFrom('ssf_held').where('stream_id', '=', streamId).execute();
    },

    queuePoll: async (rows: { jti: string; position: string; stream_id: string; claims: string; created_at: number }[]) => {
      if (rows.length) await db.insertInto('ssf_poll_queue').values(rows).onConflict((oc) => oc.column('jti').doNothing()).execute();
    },
    pollBatch: (streamId: string, limit: number) =>
      db.selectFrom('ssf_poll_queue').select(['jti', 'claims']).where('stream_id', '=', streamId).orderBy('position').limit(limit).execute(),
    clearPoll: async (streamId: string) => {
      await db.deleteFrom('ssf_poll_queue').where('stream_id', '=', streamId).execute();
    },
    acknowledge: async (streamId: string, jtis: readonly string[]) => {
      if (jtis.length) await db.deleteFrom('ssf_poll_queue').where('stream_id', '=', streamId).where('jti', 'in', jtis).execute();
    },
  };
}
export type SsfRepo = ReturnType<typeof createSsfRepo>;

export const lockStream = (trx: Tx, dialect: DialectName, id: string): Promise<void> => lockRow(trx, dialect, 'ssf_streams', 'id', id);
