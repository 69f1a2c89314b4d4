import type { Core } from '../../core.ts';
import { newId } from '../../security/ids.ts';
import { generatePassword } from '../../security/passwords.ts';
import { SYSTEM } from '../../http/actor.ts';
import type { BootstrapHooks } from './bootstrap.types.ts';
import { createUsersRepo } from './users.repo.ts';

export interface BootstrapSettings {
  adminEmail?: string;
  adminPassword?: string;
  token?: string;
}

export type BootstrapResult =
  | { created: false }
  | { created: true; email: string; oneTimePassword?: string; tokenCreated: boolean };

const DEFAULT_ADMIN_EMAIL = 'admin@localhost';

/**
 * On an empty database, creates the first admin: from INTERIM_ADMIN_EMAIL and
 * INTERIM_ADMIN_PASSWORD, or with a one-time password that must be changed at first
 * sign-in. INTERIM_BOOTSTRAP_TOKEN, when set, becomes that admin's API token.
 * Safe with several instances starting at once: the unique email index lets one win.
 */
export async function bootstrapFirstAdmin(core: Pick<Core, 'db' | 'clock' | 'audit' | 'passwords'>, settings: BootstrapSettings, hooks: BootstrapHooks): Promise<BootstrapResult> {
  const { db, clock, audit } = core;
  if ((await createUsersRepo(db).count()) > 0) return { created: false };
  const email = settings.adminEmail ?? DEFAULT_ADMIN_EMAIL;
  const oneTimePassword = settings.adminPassword ? undefined : generatePassword();
  const passwordHash = await core.passwords.hash(settings.adminPassword ?? oneTimePassword!);
  const now = clock.now();
  const id = newId(clock);
  try {
    await db.transaction().execute(async (trx) => {
      await createUsersRepo(trx).insert({
        id,
        email,
        name: 'Administrator',
        password_hash: passwordHash,
        is_admin: 1,
        disabled: 0,
        must_change_password: oneTimePassword ? 1 : 0,
        time_zone: null,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      });
      await audit.append(trx, { actor: SYSTEM, action: 'user.created', targetType: 'user', targetId: id, data: { email, is_admin: true, bootstrap: true } });
      if (settings.token) await hooks.issueBootstrapToken(trx, id, settings.token, now);
    });
  } catch (error) {
    if ((await createUsersRepo(db).count()) > 0) return { created: false };
    throw error;
  }
  return { created: true, email, oneTimePassword, tokenCreated: Boolean(settings.token) };
}
