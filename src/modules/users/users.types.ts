import { z } from 'zod';
import { email, instant, name } from '../../http/schemas.ts';
import { MIN_PASSWORD_LENGTH } from '../../security/passwords.ts';

/** Whether Intl knows `zone` as a time zone (names are case-insensitive to Intl, e.g. "utc"). */
export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '' || zone !== zone.trim()) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const password = z.string().min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`).max(1024);

export const userOut = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  is_admin: z.boolean(),
  disabled: z.boolean(),
  must_change_password: z.boolean(),
  /** The zone the portal shows this user's times in (IANA name); null: the browser's. */
  time_zone: z.string().nullable(),
  created_at: instant,
  updated_at: instant,
});
export type UserOut = z.infer<typeof userOut>;

export const createUserIn = z.strictObject({
  email,
  name,
  password: password.optional(),
  is_admin: z.boolean().default(false),
  /** With a password: the user must replace it at first sign-in (default true). */
  must_change_password: z.boolean().optional(),
});
export type CreateUserIn = z.infer<typeof createUserIn>;

export const updateUserIn = z.strictObject({
  email: email.optional(),
  name: name.optional(),
  password: password.optional(),
  is_admin: z.boolean().optional(),
  disabled: z.boolean().optional(),
  /** Forces (or waives) a password change at the next sign-in; a new password forces it unless this is false. */
  must_change_password: z.boolean().optional(),
});
export type UpdateUserIn = z.infer<typeof updateUserIn>;

/** An IANA time zone name this server's Intl knows ("Europe/Paris", "UTC"), stored as Intl spells it ("asia/tokyo" → "Asia/Tokyo"), so the portal's list finds it. */
export const timeZone = z
  .string()
  .max(100)
  .refine(isTimeZone, 'must be an IANA time zone name, such as Europe/Paris')
  .transform((zone) => new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone);

/** What a signed-in user changes about themself (PATCH /api/v1/me): only their own settings. */
export const updateMeIn = z.strictObject({
  /** null: follow the browser's zone. */
  time_zone: timeZone.nullable().optional(),
});
export type UpdateMeIn = z.infer<typeof updateMeIn>;

export const changePasswordIn = z.strictObject({
  current_password: z.string().max(1024),
  new_password: password,
});
