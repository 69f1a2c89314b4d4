import type { Executor } from '../../db/database.ts';

/** The Slack module's tables (src/db/schema/slack.ts). Every function takes the executor or transaction to run in. */
export function createSlackRepo(db: Executor) {
  return {
    app: () => db.selectFrom('slack_app').selectAll().where('id', '=', 1).executeTakeFirst(),
    async saveApp(row: { bot_token: string; signing_secret: string; updated_at: number }): Promise<void> {
      const updated = await db.updateTable('slack_app').set(row).where('id', '=', 1).executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) await db.insertInto('slack_app').values({ id: 1, ...row }).execute();
    },
    deleteApp: async () => Number((await db.deleteFrom('slack_app').where('id', '=', 1).executeTakeFirst()).numDeletedRows) > 0,

    /** Reserves the messages an event will post (idempotent per request, action and stage). */
    async reserveMessages(rows: readonly { id: string; request_id: string; action_id: string; stage: number; created_at: number }[]): Promise<void> {
      if (rows.length === 0) return;
      await db
        .insertInto('slack_messages')
        .values(rows.map((r) => ({ ...r, channel: null, ts: null })))
        .onConflict((oc) => oc.columns(['request_id', 'action_id', 'stage']).doNothing())
        .execute();
    },
    /** Of these requests, those with a Slack message (posted or still to post). */
    async requestsWithMessages(requestIds: readonly string[]): Promise<Set<string>> {
      if (requestIds.length === 0) return new Set();
      const rows = await db.selectFrom('slack_messages').select('request_id').distinct().where('request_id', 'in', [...requestIds]).execute();
      return new Set(rows.map((r) => r.request_id));
    },
    setPosted: (requestId: string, actionId: string, stage: number, channel: string, ts: string) =>
      db.updateTable('slack_messages').set({ channel, ts }).where('request_id', '=', requestId).where('action_id', '=', actionId).where('stage', '=', stage).execute(),
    /** The posted messages of a request, oldest first. */
    postedMessages: (requestId: string) =>
      db.selectFrom('slack_messages').select(['id', 'stage', 'channel', 'ts']).where('request_id', '=', requestId).where('ts', 'is not', null).orderBy('id').execute(),

    insertLinkToken: (row: { id: string; token_hash: string; team_id: string; team_domain: string; slack_user_id: string; slack_user_name: string; created_at: number; expires_at: number }) =>
      db.insertInto('slack_link_tokens').values({ ...row, used_at: null }).execute(),
    /** A token that is unused and unexpired at `now`. */
    liveLinkToken: (tokenHash: string, now: number) =>
      db.selectFrom('slack_link_tokens').selectAll().where('token_hash', '=', tokenHash).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst(),
    /** Spends a live token: true for the one caller that changed it (a conditional update, so two confirmations make one link). */
    spendLinkToken: async (id: string, now: number) =>
      Number((await db.updateTable('slack_link_tokens').set({ used_at: now }).where('id', '=', id).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst()).numUpdatedRows) === 1,
    purgeLinkTokens: (before: number) => db.deleteFrom('slack_link_tokens').where('expires_at', '<', before).execute(),

    linkOf: (teamId: string, slackUserId: string) =>
      db.selectFrom('slack_links').selectAll().where('team_id', '=', teamId).where('slack_user_id', '=', slackUserId).executeTakeFirst(),
    insertLink: (row: { id: string; user_id: string; team_id: string; team_domain: string; slack_user_id: string; slack_user_name: string; created_at: number }) =>
      db.insertInto('slack_links').values(row).execute(),
    linksOf: (userId: string) => db.selectFrom('slack_links').selectAll().where('user_id', '=', userId).orderBy('id').execute(),
    findLink: (id: string) => db.selectFrom('slack_links').selectAll().where('id', '=', id).executeTakeFirst(),
    deleteLink: async (id: string, userId: string) =>
      Number((await db.deleteFrom('slack_links').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst()).numDeletedRows) > 0,
  };
}
export type SlackRepo = ReturnType<typeof createSlackRepo>;
