import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { patch } from '../api/client.ts';
import { keys } from '../api/queries.ts';
import type { Session, User } from '../api/types.ts';
import { browserTimeZone, formatAbsolute, serverNow, setPreferredTimeZone } from '../lib/time.ts';
import { useSession } from '../session.tsx';
import { fieldErrorsOf, FormError, onSubmitSend, SelectField, SubmitButton } from './Field.tsx';

/** Every zone this browser knows, UTC first (Intl lists it under no region, and some engines not at all). */
function knownZones(): string[] {
  const listed = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return ['UTC', ...listed.filter((z) => z !== 'UTC')];
}

/**
 * The zone the portal shows times in: the browser's by default, or one the user picks
 * (stored on their account, so it follows them to another machine).
 */
export function TimeZoneSetting() {
  const { user } = useSession();
  const client = useQueryClient();
  const [zone, setZone] = useState(user.time_zone ?? '');
  const [saved, setSaved] = useState(false);
  const zones = useMemo(() => knownZones(), []);
  const browser = browserTimeZone();
  const save = useMutation({
    mutationFn: () => patch<User>('/me', { time_zone: zone || null }),
    onSuccess: (updated) => {
      setSaved(true);
      setPreferredTimeZone(updated.time_zone);
      client.setQueryData<Session | null>(keys.session, (s) => (s ? { ...s, user: updated } : s));
    },
  });
  const err = fieldErrorsOf(save.error);
  const example = formatAbsolute(new Date(serverNow()).toISOString(), zone || browser);
  return (
    <form onSubmit={onSubmitSend(() => save.mutate())} noValidate className="narrow-form">
      {saved && (
        <p className="notice notice-success" role="status">
          Times now show in {zone || `your browser’s zone (${browser})`}.
        </p>
      )}
      <FormError error={save.error} />
      <SelectField
        label="Time zone"
        value={zone}
        onChange={(e) => {
          setZone(e.target.value);
          setSaved(false);
        }}
        error={err('time_zone')}
        hint={`Times in the portal read like “${example}” when you point at them.`}
      >
        <option value="">Browser default ({browser})</option>
        {zones.map((z) => (
          <option key={z} value={z}>
            {z.replaceAll('_', ' ')}
          </option>
        ))}
      </SelectField>
      <div className="form-actions">
        <SubmitButton busy={save.isPending} busyLabel="Saving…">
          Save time zone
        </SubmitButton>
      </div>
    </form>
  );
}
