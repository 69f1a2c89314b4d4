import type { Core } from '../core.ts';

/** Removes sessions and OIDC artefacts past their expiry. Expired rows are already unusable; this keeps tables small. */
export async function purgeExpiredState(core: Pick<Core, 'db' | 'clock'>): Promise<number> {
  const now = core.clock.now();
  const oidc = await core.db.deleteFrom('oidc_payloads').where('expires_at', '<=', now).executeTakeFirst();
  const sessions = await core.db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(oidc.numDeletedRows) + Number(sessions.numDeletedRows);
}
