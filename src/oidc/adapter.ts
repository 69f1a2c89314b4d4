import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import type { Db, DialectName } from '../db/database.ts';
import { liveClientQuery } from '../modules/applications/applications.repo.ts';
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
export function createAdapterFactory(db: Db, dialect: DialectName, clock: Clock, rotation: Pick<RefreshRotation, 'deferConsume' | 'deferStore'>): (model: string) => Adapter {
  const queries = payloadQueries(db);
  const clients = clientAdapter(db);
  const prefetched = new WeakMap<object, Map<string, Row | undefined>>();
  // On PostgreSQL a token is read with its Grant in one round trip. On SQLite there is no round trip to
  // save and the self-join measured slower than two primary-key lookups, so the Grant is read on its own.
  const withGrant = dialect === 'postgres' ? WITH_GRANT : new Set<string>();
  return (model) => (model === 'Client' ? clients : new PayloadAdapter(model, queries, clock, prefetched, withGrant, model === 'RefreshToken' ? rotation : undefined));
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
    findWithGrant: prepare<{ model: string; id: string }, Row & { grant_row_id: string | null; grant_payload: string | null; grant_expires_at: number | null; grant_consumed_at: number | null }>(
      db,
      (p) =>
        db
          .selectFrom(`${table} as t`)
          .leftJoin(`${table} as g`, (j) => j.on('g.model', '=', 'Grant').onRef('g.id', '=', 't.grant_id'))
          .select(['t.payload', 't.expires_at', 't.consumed_at', 'g.id as grant_row_id', 'g.payload as grant_payload', 'g.expires_at as grant_expires_at', 'g.consumed_at as grant_consumed_at'])
          .where('t.model', '=', p('model'))
          .where('t.id', '=', p('id')),
    ),
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
  private readonly prefetched: WeakMap<object, Map<string, Row | undefined>>;
  private readonly withGrant: ReadonlySet<string>;
  /** RefreshToken only: rotation is written as one atomic step (rotation.ts). */
  private readonly rotation: Pick<RefreshRotation, 'deferConsume' | 'deferStore'> | undefined;

  constructor(
    model: string,
    queries: Queries,
    clock: Clock,
    prefetched: WeakMap<object, Map<string, Row | undefined>>,
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
      const rows = this.prefetched.get(ctx);
      if (rows?.has(id)) {
        const row = rows.get(id);
        rows.delete(id);
        return this.live(row);
      }
    }
    if (!ctx || !this.withGrant.has(this.model)) return this.live((await this.q.find({ model: this.model, id })).rows[0]);
    const row = (await this.q.findWithGrant({ model: this.model, id })).rows[0];
    const payload = this.live(row);
    const grantId = payload && typeof payload.grantId === 'string' ? payload.grantId : undefined;
    if (row && grantId) {
      let rows = this.prefetched.get(ctx);
      if (!rows) this.prefetched.set(ctx, (rows = new Map()));
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
    if (!row || (row.expires_at !== null && row.expires_at <= this.clock.now())) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
    return payload;
  }
}

/** Clients are applications; the provider never writes them (registration is off). */
function clientAdapter(db: Db): Adapter {
  const find = prepare<{ id: string }, Parameters<typeof clientMetadataOf>[0]>(db, (p) =>
    liveClientQuery(db, p('id')),
  );
  const readOnly = async () => {
    throw new Error('clients are managed through the applications API');
  };
  return {
    async find(id: string) {
      const row = (await find({ id })).rows[0];
      return row ? (clientMetadataOf(row) as AdapterPayload) : undefined;
    },
    upsert: readOnly,
    destroy: readOnly,
    consume: readOnly,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    revokeByGrantId: async () => undefined,
  };
}
