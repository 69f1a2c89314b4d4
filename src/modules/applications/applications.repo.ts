import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { matchesIgnoringCase } from '../../db/search.ts';
import type { ApplicationsTable } from '../../db/schema.ts';
import type { AuthMethod, GrantType, SigningAlg } from './applications.types.ts';

type ApplicationRow = Selectable<ApplicationsTable>;

/**
 * An application as the rest of the code sees it. The OIDC provider reads the same
 * table directly, so the column meanings are fixed: `id` is the client_id, the list
 * columns (redirect_uris, post_logout_redirect_uris, grant_types) hold JSON arrays of
 * strings, client_secret_hash is sha256(secret) in base64url and is null exactly when
 * token_endpoint_auth_method is 'none', and a set deleted_at means the client is gone.
 */
export interface Application {
  id: string;
  name: string;
  description: string;
  client_secret_hash: string | null;
  token_endpoint_auth_method: AuthMethod;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: GrantType[];
  id_token_signed_response_alg: SigningAlg;
  access_token_ttl_secs: number;
  id_token_ttl_secs: number;
  refresh_token_ttl_secs: number;
  first_party: boolean;
  /** Back-channel logout: where logout tokens go (null: none), and whether each must carry `sid`. */
  backchannel_logout_uri: string | null;
  backchannel_logout_session_required: boolean;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

function decode(row: ApplicationRow): Application {
  return {
    ...row,
    token_endpoint_auth_method: row.token_endpoint_auth_method as AuthMethod,
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris) as string[],
    grant_types: JSON.parse(row.grant_types) as GrantType[],
    id_token_signed_response_alg: row.id_token_signed_response_alg as SigningAlg,
    first_party: row.first_party === 1,
    backchannel_logout_session_required: row.backchannel_logout_session_required === 1,
  };
}

function encode(app: Partial<Application>): Partial<ApplicationRow> {
  const { redirect_uris, post_logout_redirect_uris, grant_types, first_party, backchannel_logout_session_required, ...rest } = app;
  const row: Partial<ApplicationRow> = { ...rest };
  if (redirect_uris !== undefined) row.redirect_uris = JSON.stringify(redirect_uris);
  if (post_logout_redirect_uris !== undefined) row.post_logout_redirect_uris = JSON.stringify(post_logout_redirect_uris);
  if (grant_types !== undefined) row.grant_types = JSON.stringify(grant_types);
  if (first_party !== undefined) row.first_party = first_party ? 1 : 0;
  if (backchannel_logout_session_required !== undefined) row.backchannel_logout_session_required = backchannel_logout_session_required ? 1 : 0;
  return row;
}

export function createApplicationsRepo(db: Executor) {
  const live = () => db.selectFrom('applications').selectAll().where('deleted_at', 'is', null);
  return {
    /** Whether any application is live (the first-run checklist). */
    anyLive: async (): Promise<boolean> => (await db.selectFrom('applications').select('id').where('deleted_at', 'is', null).limit(1).executeTakeFirst()) !== undefined,
    findLive: async (id: string) => {
      const row = await live().where('id', '=', id).executeTakeFirst();
      return row && decode(row);
    },
    /** Whether the application exists and is not deleted, without reading the row. */
    isLive: async (id: string): Promise<boolean> =>
      (await db.selectFrom('applications').select('id').where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst()) !== undefined,
    /** Id and name of a live application: what a request's snapshot keeps. */
    findLiveName: (id: string) => db.selectFrom('applications').select(['id', 'name']).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst(),
    /** Id and name of each of `ids`, deleted applications included (templates keep naming them). */
    namesOf: (ids: readonly string[]) =>
      ids.length ? db.selectFrom('applications').select(['id', 'name']).where('id', 'in', [...ids]).execute() : Promise.resolve([]),
    list: async (opts: { limit: number; cursor?: string; name?: string; q?: string }) => {
      let q = live().orderBy('id').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '>', opts.cursor);
      if (opts.name) q = q.where(matchesIgnoringCase('name', opts.name, 'contains'));
      const text = opts.q;
      // The client id is the application's id.
      if (text) q = q.where((eb) => eb.or([matchesIgnoringCase('name', text, 'contains'), matchesIgnoringCase('id', text, 'contains')]));
      return (await q.execute()).map(decode);
    },
    /** The longest access and ID token lifetimes (seconds) among live applications: how long old signing keys must stay. */
    longestTokenTtls: () =>
      db
        .selectFrom('applications')
        .select((eb) => [eb.fn.max('access_token_ttl_secs').as('access'), eb.fn.max('id_token_ttl_secs').as('id')])
        .where('deleted_at', 'is', null)
        .executeTakeFirst(),
    insert: (app: Application) => db.insertInto('applications').values(encode(app) as ApplicationRow).execute(),
    update: (id: string, patch: Partial<Application>) =>
      db.updateTable('applications').set(encode(patch)).where('id', '=', id).where('deleted_at', 'is', null).execute(),
  };
}
export type ApplicationsRepo = ReturnType<typeof createApplicationsRepo>;

/** The ids of the live (not deleted) applications, as a subquery: the templates a user may request are one statement with it. */
export const liveApplicationIdsQuery = (db: Executor) => db.selectFrom('applications').select('id').where('deleted_at', 'is', null);

/** A live application's row, as the OIDC provider reads its client; `id` may be a prepared statement's slot. */
export const liveClientQuery = (db: Executor, id: string) => db.selectFrom('applications').selectAll().where('id', '=', id).where('deleted_at', 'is', null);

/** Every application's id and name, deleted ones included: the audit log's names. */
export const applicationNamesQuery = (db: Executor) => db.selectFrom('applications').select(['id', 'name', 'deleted_at']);
