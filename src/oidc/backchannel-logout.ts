import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import type { Core } from '../core.ts';
import type { Tx } from '../db/database.ts';
import type { EndedSession } from './payloads.repo.ts';

/**
 * oidc-provider's backchannelLogout feature is on for its discovery metadata
 * (`backchannel_logout_supported`, `backchannel_logout_session_supported`) and for `sid` in
 * ID tokens, but it would POST a logout token itself, from the request that ends the session,
 * unsigned by any outbox: once, unretried, and only for RP-initiated logout. Interim's outbox
 * sends them instead for every path that ends a session (src/modules/backchannel-logout), so
 * the provider's own sender does nothing.
 */
export function leaveBackchannelLogoutToOutbox(ClientClass: { prototype: Client }): void {
  const proto = ClientClass.prototype as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> };
  proto.backchannelLogout = async function sentByTheOutbox() {};
}

/**
 * The provider's end-session confirmation ended its session (RP-Initiated Logout): records
 * the `sessions_ended` signal with that session's (client, sid) pairs, read from the session
 * the request still holds, so the applications get their logout tokens from the outbox.
 */
export function signalEndedProviderSession(core: Pick<Core, 'db'>, recordEnded: (trx: Tx, userId: string, sessions: EndedSession[]) => Promise<void>) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (ctx.oidc?.route !== 'end_session_confirm' || !ctx.oidc.params?.logout || ctx.status !== 303) return;
    const session = ctx.oidc.session;
    const userId = session?.accountId;
    if (!session || !userId) return;
    const sessions: EndedSession[] = [];
    for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
      if (typeof authorization?.sid === 'string') sessions.push({ client_id: clientId, sid: authorization.sid });
    }
    await core.db.transaction().execute((trx) => recordEnded(trx, userId, sessions));
  };
}
