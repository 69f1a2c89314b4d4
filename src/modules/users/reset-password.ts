import type { Core } from '../../core.ts';
import { AppError, assertThat } from '../../http/errors.ts';
import { generatePassword, hashPassword } from '../../security/passwords.ts';
import { SYSTEM } from '../auth/actor.ts';
import { revokeUserAccess } from '../auth/revocation.ts';
import { createUsersRepo } from './users.repo.ts';

export interface PasswordReset {
  userId: string;
  email: string;
  oneTimePassword: string;
  disabled: boolean;
}

/**
 * `interim admin reset-password EMAIL`: whoever runs the CLI holds the database, so this
 * is the way back in when the first admin's one-time password was lost (or any admin's
 * password forgotten). The user gets a new one-time password that must be changed at the
 * next sign-in; everything they held ends (sessions, OIDC grants and tokens, API tokens),
 * so a leaked old password or token is of no further use. One transaction, audited.
 */
export async function resetPasswordByEmail(core: Core, email: string): Promise<PasswordReset> {
  const { db, clock, audit } = core;
  const normalised = email.trim().toLowerCase();
  const oneTimePassword = generatePassword();
  const passwordHash = await hashPassword(oneTimePassword);
  return db.transaction().execute(async (trx) => {
    const users = createUsersRepo(trx);
    const user = await users.findByEmail(normalised);
    assertThat(user, new AppError(404, 'not_found', `no user with email ${normalised}`));
    await users.update(user.id, { password_hash: passwordHash, must_change_password: 1, updated_at: clock.now() });
    await revokeUserAccess(trx, user.id);
    const tokens = await trx.deleteFrom('api_tokens').where('user_id', '=', user.id).executeTakeFirst();
    await audit.append(trx, {
      actor: SYSTEM,
      action: 'user.password_reset',
      targetType: 'user',
      targetId: user.id,
      data: { email: user.email, via: 'cli', api_tokens_ended: Number(tokens.numDeletedRows) },
    });
    return { userId: user.id, email: user.email, oneTimePassword, disabled: user.disabled === 1 };
  });
}
