import Provider, { errors, type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import type { Db, DialectName } from '../db/database.ts';
import { sql } from 'kysely';
import { liveClientQuery } from '../modules/applications/applications.repo.ts';
import { CLAIMS_MARGIN_MS } from '../modules/claims/index.ts';
import { accountWithClaimsQuery, type AccountRow, type PrefetchedAccounts } from './account.ts';
import { clientMetadataOf } from './clients.ts';
import { prepare } from './prepared.ts';
import type { PayloadRow, RefreshRotation } from './rotation.ts';

/**
 * oidc-provider's storage over the oidc_payloads table, one row per (model, id). The
 * secondary columns let us find rows without reading JSON: grant_id for revocation,
 * uid for sessions, user_code for device flow, and account_id so that
 * the payloads repo's deleteAllOf can end everything a user holds with one delete. Expired rows are
 * invisible at once (the worker purges them later), by the same Clock as the rest of
 * Interim.
 *
 * The Client model is read from the applications table instead; a soft-deleted
 * application is no client.
 */
export function createAdapterFactory(
  db: Db,
  dialect: DialectName,
  clock: Clock,
  rotation: Pick<RefreshRotation, 'deferConsume' | 'deferStore'>,
  accounts: PrefetchedAccounts = new WeakMap(),
): (model: string) => Adapter {
  const queries = payloadQueries(db);
  const postgres = dialect === 'postgres';
  // On PostgreSQL a token is read with its Grant in one round trip, the client with the token the
  // request names (tokenLookahead), and userinfo's access token with everything userinfo reads next
  // (userinfoRead). On SQLite there is no round trip to save and the self-join measured slower than
  // two primary-key lookups, so each is read on its own.
  const prefetched: Prefetched = { grants: new WeakMap(), tokens: new WeakMap(), accounts, clients: new WeakMap(), userinfo: postgres ? userinfoRead(db) : undefined, clock };
  const clients = clientAdapter(db, postgres ? prefetched : undefined);
  const withGrant = postgres ? WITH_GRANT : new Set<string>();
  return (model) => (model === 'Client' ? clients : new PayloadAdapter(model, queries, clock, prefetched, withGrant, model === 'RefreshToken' ? rotation : undefined));
}

/**
 * Rows read ahead within one provider request, keyed by its context (nothing outlives it) and
 * each handed out once: the Grant of a token read with it (by grant id), and the tokens read
 * with the client (by model and id; `undefined` = read, and there is none).
 */
interface Prefetched {
  grants: WeakMap<object, Map<string, Row | undefined>>;
  tokens: WeakMap<object, Map<string, TokenWithGrant | undefined>>;
  /** The refresh grant's and userinfo's user, claim sources and resource server (account.ts takes them). */
  accounts: PrefetchedAccounts;
  /** Clients read with userinfo's access token, by client id. */
  clients: WeakMap<object, Map<string, ApplicationRow | undefined>>;
  /** PostgreSQL: userinfo's one statement (userinfoRead). */
  userinfo?: ReturnType<typeof userinfoRead>;
  clock: Clock;
}

/**
 * The user + claim source rows of a combined read (account.ts's statement), as one JSON array
 * (null when there is no such user): as rows they would repeat the client, token and Grant
 * columns once per claim source, which measured ~25% more database CPU per refresh grant.
 */
type AccountColumns = { account_rows: AccountRow[] | null };

/** accountWithClaimsQuery's rows, aggregated into the one `account_rows` column, to left-join on true. */
function accountRowsJson(db: Db, userId: string, appId: string, at: number, audience?: string, usage = false) {
  return db.selectFrom(accountWithClaimsQuery(db, userId, appId, at, audience, usage).as('x0')).select(sql<AccountRow[] | null>`json_agg(x0)`.as('account_rows'));
}

/**
 * userinfo on PostgreSQL in one statement: the access token with its Grant, its client (by the
 * payload's clientId) and its user with their claim sources for that client (by account_id), all
 * read at this instant; the lookups that follow in the request take them (each once). No token,
 * no rows.
 */
function userinfoRead(db: Db) {
  type UserinfoRow = Nullable<ApplicationRow> & Omit<TokenWithGrant, keyof Row> & { t_payload: string; t_expires_at: number | null; t_consumed_at: number | null; t_account_id: string | null } & AccountColumns;
  return prepare<{ id: string; at: number }, UserinfoRow>(db, (p) => {
    const clientId = sql<string>`(select payload::json->>'clientId' from oidc_payloads where model = 'AccessToken' and id = ${p('id')})` as unknown as string;
    const accountId = sql<string>`(select account_id from oidc_payloads where model = 'AccessToken' and id = ${p('id')})` as unknown as string;
    return db
      .selectFrom(
        tokensWithGrant(db, p('id'), ['AccessToken'])
          .select(['t.payload as t_payload', 't.expires_at as t_expires_at', 't.consumed_at as t_consumed_at', 't.account_id as t_account_id'])
          .as('k'),
      )
      .leftJoin(liveClientQuery(db, clientId).as('a'), (j) => j.onTrue())
      .leftJoin(accountRowsJson(db, accountId, clientId, p('at')).as('x'), (j) => j.onTrue())
      .selectAll('a')
      .select(['k.t_payload', 'k.t_expires_at', 'k.t_consumed_at', 'k.t_account_id', 'k.grant_row_id', 'k.grant_payload', 'k.grant_expires_at', 'k.grant_consumed_at', 'x.account_rows']);
  });
}

type ApplicationRow = Parameters<typeof clientMetadataOf>[0];
type Nullable<T> = { [K in keyof T]: T[K] | null };

type TokenWithGrant = Row & { grant_row_id: string | null; grant_payload: string | null; grant_expires_at: number | null; grant_consumed_at: number | null };

const tokenKey = (model: string, id: string) => `${model}\u0000${id}`;

/** Models introspection looks a token up in (oidc-provider's findToken: all three, whatever the hint). */
const INTROSPECTED = ['AccessToken', 'ClientCredentials', 'RefreshToken'];

/**
 * The token the current request names and looks up right after authenticating its client:
 * the refresh grant's refresh_token, introspection's token. Its rows come with the client's.
 */
function tokenLookahead(ctx: KoaContextWithOIDC | undefined): { token: string; introspection: boolean; audience?: string } | undefined {
  const oidc = ctx?.oidc as KoaContextWithOIDC['oidc'] | undefined;
  const params = oidc?.params as Record<string, unknown> | undefined;
  if (!oidc || !params) return undefined;
  if (oidc.route === 'token' && params.grant_type === 'refresh_token' && typeof params.refresh_token === 'string' && params.refresh_token) {
    // The audience as findAccount reads it (account.ts).
    return { token: params.refresh_token, introspection: false, audience: typeof params.resource === 'string' ? params.resource : undefined };
  }
  if (oidc.route === 'introspection' && typeof params.token === 'string' && params.token) return { token: params.token, introspection: true };
  return undefined;
}

/** Models whose lookup by id also reads their Grant (the refresh grant, userinfo and introspection look it up next). */
const WITH_GRANT: ReadonlySet<string> = new Set(['AccessToken', 'RefreshToken']);

type Queries = ReturnType<typeof payloadQueries>;

function payloadQueries(db: Db) {
  const table = 'oidc_payloads' as const;
  return {
    upsert: prepare<PayloadRow, unknown>(db, (p) =>
      db
        .insertInto(table)
        .values({ model: p('model'), id: p('id'), payload: p('payload'), grant_id: p('grant_id'), user_code: p('user_code'), uid: p('uid'), account_id: p('account_id'), expires_at: p('expires_at'), consumed_at: null })
        .onConflict((oc) =>
          oc.columns(['model', 'id']).doUpdateSet((eb) => ({
            payload: eb.ref('excluded.payload'),
            grant_id: eb.ref('excluded.grant_id'),
            user_code: eb.ref('excluded.user_code'),
            uid: eb.ref('excluded.uid'),
            account_id: eb.ref('excluded.account_id'),
            expires_at: eb.ref('excluded.expires_at'),
          })),
        ),
    ),
    find: prepare<{ model: string; id: string }, Row>(db, (p) =>
      db.selectFrom(table).select(['payload', 'expires_at', 'consumed_at']).where('model', '=', p('model')).where('id', '=', p('id')),
    ),
    /** A token with the Grant it belongs to, in one statement: oidc-provider always looks the grant up next. */
    findWithGrant: prepare<{ model: string; id: string }, TokenWithGrant>(db, (p) => tokensWithGrant(db, p('id'), [p('model')]).select(['t.payload', 't.expires_at', 't.consumed_at'])),
    findByUid: prepare<{ model: string; uid: string }, Row>(db, (p) =>
      db.selectFrom(table).select(['payload', 'expires_at', 'consumed_at']).where('uid', '=', p('uid')).where('model', '=', p('model')),
    ),
    findByUserCode: prepare<{ model: string; user_code: string }, Row>(db, (p) =>
      db.selectFrom(table).select(['payload', 'expires_at', 'consumed_at']).where('user_code', '=', p('user_code')).where('model', '=', p('model')),
    ),
    consume: prepare<{ model: string; id: string; now: number }, unknown>(db, (p) =>
      db.updateTable(table).set({ consumed_at: p('now') }).where('model', '=', p('model')).where('id', '=', p('id')).where('consumed_at', 'is', null),
    ),
    destroy: prepare<{ model: string; id: string }, unknown>(db, (p) => db.deleteFrom(table).where('model', '=', p('model')).where('id', '=', p('id'))),
    revokeByGrantId: prepare<{ model: string; grant_id: string }, unknown>(db, (p) =>
      db.deleteFrom(table).where('grant_id', '=', p('grant_id')).where('model', '=', p('model')),
    ),
  };
}

interface Row {
  payload: string;
  expires_at: number | null;
  consumed_at: number | null;
}

/** Rows of `models` with this id, each with its Grant (left-joined): the statement behind findWithGrant and the client lookahead. */
function tokensWithGrant(db: Db, id: string, models: string[]) {
  return db
    .selectFrom('oidc_payloads as t')
    .leftJoin('oidc_payloads as g', (j) => j.on('g.model', '=', 'Grant').onRef('g.id', '=', 't.grant_id'))
    .select(['g.id as grant_row_id', 'g.payload as grant_payload', 'g.expires_at as grant_expires_at', 'g.consumed_at as grant_consumed_at'])
    .where('t.model', 'in', models)
    .where('t.id', '=', id);
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

class PayloadAdapter implements Adapter {
  private readonly model: string;
  private readonly q: Queries;
  private readonly clock: Clock;
  /**
   * Grant rows read together with a token in the current provider request, by grant id,
   * each handed out once: the next Grant.find of that id in the same request takes it
   * instead of a second statement. Keyed by the request's context, so nothing outlives it.
   */
  private readonly prefetched: Prefetched;
  private readonly withGrant: ReadonlySet<string>;
  /** RefreshToken only: rotation is written as one atomic step (rotation.ts). */
  private readonly rotation: Pick<RefreshRotation, 'deferConsume' | 'deferStore'> | undefined;

  constructor(
    model: string,
    queries: Queries,
    clock: Clock,
    prefetched: Prefetched,
    withGrant: ReadonlySet<string>,
    rotation?: Pick<RefreshRotation, 'deferConsume' | 'deferStore'>,
  ) {
    this.model = model;
    this.q = queries;
    this.clock = clock;
    this.prefetched = prefetched;
    this.withGrant = withGrant;
    this.rotation = rotation;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    // The row lives exactly as long as the artefact: exp when the model has one.
    const expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : typeof expiresIn === 'number' ? this.clock.now() + expiresIn * 1000 : null;
    const row: PayloadRow = {
      model: this.model,
      id,
      payload: JSON.stringify(payload),
      grant_id: str(payload.grantId),
      user_code: str(payload.userCode),
      uid: str(payload.uid),
      account_id: str(payload.accountId),
      expires_at: expiresAt,
    };
    if (this.rotation?.deferStore(row)) return;
    await this.q.upsert(row);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const ctx = Provider.ctx;
    if (ctx && this.model === 'Grant') {
      const rows = this.prefetched.grants.get(ctx);
      if (rows?.has(id)) {
        const row = rows.get(id);
        rows.delete(id);
        return this.live(row);
      }
    }
    // Read with the client this request authenticated (clientAdapter): taken once, as it was then.
    const ahead = ctx && this.prefetched.tokens.get(ctx);
    if (ahead && ahead.has(tokenKey(this.model, id))) {
      const row = ahead.get(tokenKey(this.model, id));
      ahead.delete(tokenKey(this.model, id));
      return this.withItsGrant(ctx, row);
    }
    if (ctx && this.model === 'AccessToken' && this.prefetched.userinfo && (ctx as KoaContextWithOIDC).oidc?.route === 'userinfo') return this.forUserinfo(ctx, id);
    if (!ctx || !this.withGrant.has(this.model)) return this.live((await this.q.find({ model: this.model, id })).rows[0]);
    return this.withItsGrant(ctx, (await this.q.findWithGrant({ model: this.model, id })).rows[0]);
  }

  /** userinfo's access token, read with its Grant, client, user and claims (userinfoRead), which wait for this request's lookups. */
  private async forUserinfo(ctx: object, id: string): Promise<AdapterPayload | undefined> {
    const rows = (await this.prefetched.userinfo!({ id, at: this.clock.now() + CLAIMS_MARGIN_MS })).rows;
    const r = rows[0];
    if (!r) return undefined;
    const payload = this.withItsGrant(ctx, {
      payload: r.t_payload,
      expires_at: r.t_expires_at,
      consumed_at: r.t_consumed_at,
      grant_row_id: r.grant_row_id,
      grant_payload: r.grant_payload,
      grant_expires_at: r.grant_expires_at,
      grant_consumed_at: r.grant_consumed_at,
    });
    const clientId = payload && typeof payload.clientId === 'string' ? payload.clientId : undefined;
    if (!clientId) return payload;
    this.prefetched.clients.set(ctx, new Map([[clientId, r.id === clientId ? (r as ApplicationRow) : undefined]]));
    if (r.t_account_id) this.prefetched.accounts.set(ctx, { userId: r.t_account_id, appId: clientId, audience: undefined, rows: accountRowsOf(rows) });
    return payload;
  }

  /** The token's payload; its Grant, read in the same statement, waits for the Grant.find that follows. */
  private withItsGrant(ctx: object, row: TokenWithGrant | undefined): AdapterPayload | undefined {
    const payload = this.live(row);
    const grantId = payload && typeof payload.grantId === 'string' ? payload.grantId : undefined;
    if (row && grantId) {
      let rows = this.prefetched.grants.get(ctx);
      if (!rows) this.prefetched.grants.set(ctx, (rows = new Map()));
      const grant = row.grant_row_id === grantId && row.grant_payload !== null ? { payload: row.grant_payload, expires_at: row.grant_expires_at, consumed_at: row.grant_consumed_at } : undefined;
      rows.set(grantId, grant);
    }
    return payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.live((await this.q.findByUid({ model: this.model, uid })).rows[0]);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.live((await this.q.findByUserCode({ model: this.model, user_code: userCode })).rows[0]);
  }

  /**
   * Marks a code or refresh token used. Conditional on it being unused, so two
   * concurrent redemptions of one token cannot both succeed: the loser gets
   * invalid_grant, as if it had come second (DESIGN rule 5). A refresh token rotated by
   * the refresh grant is consumed later, together with storing its successor.
   */
  async consume(id: string): Promise<void> {
    if (this.rotation?.deferConsume(id)) return;
    const result = await this.q.consume({ model: this.model, id, now: this.clock.now() });
    if (Number(result.numAffectedRows ?? 0n) === 0) throw new errors.InvalidGrant('grant source already used or revoked');
  }

  async destroy(id: string): Promise<void> {
    await this.q.destroy({ model: this.model, id });
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.q.revokeByGrantId({ model: this.model, grant_id: grantId });
  }

  private live(row: Row | undefined): AdapterPayload | undefined {
    // A device code is handed out expired too: the provider checks it and tells the user and the CLI it expired (RFC 8628 expired_token).
    if (!row || (row.expires_at !== null && row.expires_at <= this.clock.now() && this.model !== 'DeviceCode')) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
    return payload;
  }
}

type ClientWithToken = ApplicationRow & { t_model: string | null; t_payload: string | null; t_expires_at: number | null; t_consumed_at: number | null; t_account_id: string | null } & Omit<TokenWithGrant, keyof Row>;
/** The refresh grant's read: the client, its refresh token and Grant, and the token's user with their claim sources (and resource server). */
type ClientWithAccount = ClientWithToken & AccountColumns;

/** The account rows of a combined read as findAccount's own statement returns them (none when there is no such user). */
function accountRowsOf(rows: AccountColumns[]): AccountRow[] {
  return rows[0]?.account_rows ?? [];
}

/**
 * Clients are applications; the provider never writes them (registration is off). Nothing
 * is cached: every request reads its client. With `prefetched` (PostgreSQL, where each
 * statement is a round trip), a request that names the token it will look up next (the
 * refresh grant, introspection) reads the client, that token and its Grant in one
 * statement; the token rows wait in `prefetched.tokens` for this request's lookups.
 */
function clientAdapter(db: Db, prefetched?: Prefetched): Adapter {
  const find = prepare<{ id: string }, ApplicationRow>(db, (p) => liveClientQuery(db, p('id')));
  const clientAndTokens = (id: string, token: string, models: string[]) =>
    db
      .selectFrom(liveClientQuery(db, id).as('a'))
      .leftJoin(
        tokensWithGrant(db, token, models)
          .select(['t.model as t_model', 't.payload as t_payload', 't.expires_at as t_expires_at', 't.consumed_at as t_consumed_at', 't.account_id as t_account_id'])
          .as('k'),
        (j) => j.onTrue(),
      )
      .selectAll('a')
      .select(['k.t_model', 'k.t_payload', 'k.t_expires_at', 'k.t_consumed_at', 'k.t_account_id', 'k.grant_row_id', 'k.grant_payload', 'k.grant_expires_at', 'k.grant_consumed_at']);
  const withIntrospected = prepare<{ id: string; token: string }, ClientWithToken>(db, (p) => clientAndTokens(p('id'), p('token'), INTROSPECTED));
  // The refresh grant: also the token's user and claim sources for this client (and the resource server it names),
  // read by the refresh token's account_id, so that the grant needs no statement besides this and the rotation.
  const withRefreshToken = (audience: boolean) =>
    prepare<{ id: string; token: string; at: number; audience: string }, ClientWithAccount>(db, (p) => {
      const accountOfToken = sql<string>`(select account_id from oidc_payloads where model = 'RefreshToken' and id = ${p('token')})` as unknown as string;
      return clientAndTokens(p('id'), p('token'), ['RefreshToken'])
        // A refresh grant issues a token: its read carries the grants' usage (account.ts).
        .leftJoin(accountRowsJson(db, accountOfToken, p('id'), p('at'), audience ? p('audience') : undefined, true).as('x'), (j) => j.onTrue())
        .select(['x.account_rows']);
    });
  const withRefreshTokenFor = { audience: withRefreshToken(true), none: withRefreshToken(false) };
  const readOnly = async () => {
    throw new Error('clients are managed through the applications API');
  };
  return {
    async find(id: string) {
      const ctx = Provider.ctx;
      // userinfo read its client with the access token (userinfoRead): taken once, as it was then.
      const read = ctx && prefetched?.clients.get(ctx);
      if (read?.has(id)) {
        const row = read.get(id);
        read.delete(id);
        return row ? (clientMetadataOf(row) as AdapterPayload) : undefined;
      }
      // Once per request: a second client lookup (introspecting another client's token) reads the client alone.
      const ahead = ctx && prefetched && !prefetched.tokens.has(ctx) ? tokenLookahead(ctx) : undefined;
      if (!ctx || !prefetched || !ahead) {
        const row = (await find({ id })).rows[0];
        return row ? (clientMetadataOf(row) as AdapterPayload) : undefined;
      }
      const rows: ClientWithToken[] = ahead.introspection
        ? (await withIntrospected({ id, token: ahead.token })).rows
        : await (async () => {
            const read = ahead.audience === undefined ? withRefreshTokenFor.none : withRefreshTokenFor.audience;
            const at = prefetched.clock.now() + CLAIMS_MARGIN_MS;
            const result = (await read({ id, token: ahead.token, at, audience: ahead.audience ?? '' })).rows;
            const userId = result[0]?.t_account_id;
            if (userId) prefetched.accounts.set(ctx, { userId, appId: id, audience: ahead.audience, rows: accountRowsOf(result) });
            return result;
          })();
      if (!rows[0]) return undefined; // no such client: the request ends here, its token is never looked up
      const tokens = new Map<string, TokenWithGrant | undefined>((ahead.introspection ? INTROSPECTED : ['RefreshToken']).map((model) => [tokenKey(model, ahead.token), undefined]));
      for (const r of rows) {
        if (r.t_model === null || r.t_payload === null) continue;
        tokens.set(tokenKey(r.t_model, ahead.token), {
          payload: r.t_payload,
          expires_at: r.t_expires_at,
          consumed_at: r.t_consumed_at,
          grant_row_id: r.grant_row_id,
          grant_payload: r.grant_payload,
          grant_expires_at: r.grant_expires_at,
          grant_consumed_at: r.grant_consumed_at,
        });
      }
      prefetched.tokens.set(ctx, tokens);
      return clientMetadataOf(rows[0]) as AdapterPayload;
    },
    upsert: readOnly,
    destroy: readOnly,
    consume: readOnly,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    revokeByGrantId: async () => undefined,
  };
}
