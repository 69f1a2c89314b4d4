import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import type { Db, DialectName } from '../db/database.ts';
import type { OidcPayloadsTable } from '../db/schema.ts';
import { prepare } from './prepared.ts';

/** One oidc_payloads row as the adapter writes it (consumption is a separate update). */
export type PayloadRow = Omit<OidcPayloadsTable, 'consumed_at'>;

interface PendingRotation {
  consumedId: string;
  next?: PayloadRow;
}

/**
 * Refresh-token rotation as one atomic write.
 *
 * oidc-provider's refresh grant (lib/actions/grants/refresh_token.js) rotates in steps:
 * find the old token → consume() it → save() the new one → save the access token →
 * sign the ID token → answer. Written as they come, a failure after consume() (the
 * database restarting, a timeout) leaves the old token consumed and the new one unknown
 * to the client; the client's retry with the old token is then reuse, and the whole
 * grant is revoked.
 *
 * So during a refresh grant the adapter only records the consume and the new token, and
 * this middleware writes both once the response is complete and successful: one
 * statement on PostgreSQL (a data-modifying CTE), one transaction on SQLite. Any failure
 * before or during that write leaves the old token exactly as it was, usable for the
 * retry. Reuse detection stays: the consume is conditional on the old token being
 * unused, so of two concurrent refreshes one wins; the other gets invalid_grant and the
 * token family is revoked, as when a used token is presented again.
 */
export function createRefreshRotation(db: Db, dialect: DialectName, clock: Clock) {
  const pending = new WeakMap<object, PendingRotation>();
  const rotate = dialect === 'postgres' ? rotateInOneStatement(db) : rotateInTransaction(db);
  const revokeFamily = prepare<{ grant_id: string }, unknown>(db, (p) =>
    db.deleteFrom('oidc_payloads').where((eb) => eb.or([eb('grant_id', '=', p('grant_id')), eb.and([eb('model', '=', 'Grant'), eb('id', '=', p('grant_id'))])])),
  );

  const refreshGrantCtx = (): KoaContextWithOIDC | undefined => {
    const ctx = Provider.ctx;
    // On the token endpoint only the refresh grant consumes a refresh token.
    return ctx?.oidc?.route === 'token' ? ctx : undefined;
  };

  return {
    /** RefreshToken.consume() during a refresh grant: remembered, written at the end. */
    deferConsume(id: string): boolean {
      const ctx = refreshGrantCtx();
      if (!ctx) return false;
      pending.set(ctx, { consumedId: id });
      return true;
    },

    /** RefreshToken.save() of the rotated token: remembered, written with the consume. */
    deferStore(row: PayloadRow): boolean {
      const ctx = refreshGrantCtx();
      const rotation = ctx && pending.get(ctx);
      if (!rotation || rotation.next) return false;
      rotation.next = row;
      return true;
    },

    /** Provider middleware: commits the recorded rotation when the grant succeeded. */
    async commitRotation(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
      await next();
      const rotation = pending.get(ctx);
      if (!rotation) return;
      pending.delete(ctx);
      if (ctx.status !== 200) return; // failed grant: the old token stays as it was
      try {
        // oidc-provider always saves the successor after consuming; without one, fail closed.
        if (!rotation.next) throw new Error('refresh token consumed without a successor');
        if (await rotate(rotation.consumedId, rotation.next, clock.now())) return;
        // Someone else consumed it between our read and our write: reuse.
        if (rotation.next.grant_id) await revokeFamily({ grant_id: rotation.next.grant_id });
        ctx.status = 400;
        ctx.body = { error: 'invalid_grant', error_description: 'grant request is invalid' };
      } catch (err) {
        ctx.status = 500;
        ctx.body = { error: 'server_error', error_description: 'oops! something went wrong' };
        ctx.oidc.provider.emit('server_error', ctx, err);
      }
    },
  };
}

export type RefreshRotation = ReturnType<typeof createRefreshRotation>;

/** Returns whether the old token was still unused (and is now consumed, with the new one stored). */
type Rotate = (consumedId: string, next: PayloadRow, now: number) => Promise<boolean>;

function rotateInOneStatement(db: Db): Rotate {
  type Params = PayloadRow & { consumed_id: string; now: number };
  const statement = prepare<Params, { id: string }>(db, (p) =>
    db
      .with('consumed', (qb) =>
        qb
          .updateTable('oidc_payloads')
          .set({ consumed_at: p('now') })
          .where('model', '=', 'RefreshToken')
          .where('id', '=', p('consumed_id'))
          .where('consumed_at', 'is', null)
          .returning('id'),
      )
      .insertInto('oidc_payloads')
      .columns(['model', 'id', 'payload', 'grant_id', 'user_code', 'uid', 'account_id', 'expires_at', 'consumed_at'])
      .expression((eb) =>
        eb
          .selectFrom('consumed')
          .select([
            eb.cast<string>(eb.val(p('model')), 'text').as('model'),
            eb.cast<string>(eb.val(p('id')), 'text').as('id'),
            eb.cast<string>(eb.val(p('payload')), 'text').as('payload'),
            eb.cast<string | null>(eb.val(p('grant_id')), 'text').as('grant_id'),
            eb.cast<string | null>(eb.val(p('user_code')), 'text').as('user_code'),
            eb.cast<string | null>(eb.val(p('uid')), 'text').as('uid'),
            eb.cast<string | null>(eb.val(p('account_id')), 'text').as('account_id'),
            eb.cast<number | null>(eb.val(p('expires_at')), 'bigint').as('expires_at'),
            eb.cast<number | null>(eb.val(null), 'bigint').as('consumed_at'),
          ]),
      )
      .returning('id'),
  );
  return async (consumedId, next, now) => (await statement({ ...next, consumed_id: consumedId, now })).rows.length === 1;
}

function rotateInTransaction(db: Db): Rotate {
  return (consumedId, next, now) =>
    db.transaction().execute(async (trx) => {
      const consumed = await trx
        .updateTable('oidc_payloads')
        .set({ consumed_at: now })
        .where('model', '=', 'RefreshToken')
        .where('id', '=', consumedId)
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      if (Number(consumed.numUpdatedRows) === 0) return false;
      await trx.insertInto('oidc_payloads').values({ ...next, consumed_at: null }).execute();
      return true;
    });
}
