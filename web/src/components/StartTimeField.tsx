import { useState, useSyncExternalStore } from 'react';
import { formatDuration } from '../lib/format.ts';
import { currentTimeZone, fromZonedInput, onTimeZoneChange, serverNow, toZonedInput } from '../lib/time.ts';
import { Fieldset } from './Field.tsx';
import { Time } from './Time.tsx';

/**
 * When the access should start (scheduled start): at approval, or at a chosen time no
 * more than the template's limit ahead. Reports the chosen instant as RFC 3339 (UTC), or
 * undefined for "when approved"; the server checks the limits again and names errors.
 */
export function StartTimeField({ maxDelayMins, onChange, error }: { maxDelayMins: number; onChange: (startsAt: string | undefined) => void; error?: string }) {
  const [later, setLater] = useState(false);
  const [local, setLocal] = useState('');
  // The picker's wall-clock time is in the user's zone (their setting, else the browser's), as every time the portal shows.
  const zone = useSyncExternalStore(onTimeZoneChange, currentTimeZone);
  // The bounds of the picker, by the server's clock as of when the form opened (the server checks again at submission).
  const [now] = useState(serverNow);
  const chosen = later && local ? fromZonedInput(local, zone) : NaN;
  const report = (isLater: boolean, value: string) => {
    const ms = value ? fromZonedInput(value, zone) : NaN;
    onChange(isLater && !Number.isNaN(ms) ? new Date(ms).toISOString() : undefined);
  };
  return (
    <Fieldset
      legend="When should it start?"
      error={error}
      hint={`Approvers can decide in advance; nothing is granted before the start. At most ${formatDuration(maxDelayMins)} ahead.`}
    >
      <div className="radio-row">
        <label className="radio-pill">
          <input
            type="radio"
            name="start"
            checked={!later}
            onChange={() => {
              setLater(false);
              report(false, local);
            }}
          />
          <span>When approved</span>
        </label>
        <label className="radio-pill">
          <input
            type="radio"
            name="start"
            checked={later}
            onChange={() => {
              setLater(true);
              report(true, local);
            }}
          />
          <span>At a later time</span>
        </label>
      </div>
      {later && (
        <label className="field">
          <span>Start at ({zone.replaceAll('_', ' ')} time)</span>
          <input
            type="datetime-local"
            aria-label="Start at"
            value={local}
            min={toZonedInput(now, zone)}
            max={toZonedInput(now + maxDelayMins * 60_000, zone)}
            onChange={(e) => {
              setLocal(e.target.value);
              report(true, e.target.value);
            }}
          />
          {!Number.isNaN(chosen) && (
            <span className="hint" data-testid="start-preview">
              Starts <Time iso={new Date(chosen).toISOString()} />
            </span>
          )}
        </label>
      )}
    </Fieldset>
  );
}

/** A scheduled grant: when it starts (and ends). For the request page and lists. */
export function ScheduledNote({ startsAt, expiresAt }: { startsAt: string | null; expiresAt: string | null }) {
  return (
    <span className="scheduled-note" data-testid="scheduled-note">
      Starts <Time iso={startsAt} />
      {expiresAt && <>, ends <Time iso={expiresAt} /></>}. Nothing is granted before the start.
    </span>
  );
}
