import { useState } from 'react';
import { formatDuration } from '../lib/format.ts';
import { Fieldset } from './Field.tsx';
import { Time } from './Time.tsx';

/** "2026-05-01T09:30" in the browser's time zone, as <input type="datetime-local"> wants it. */
function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * When the access should start (scheduled start): at approval, or at a chosen time no
 * more than the template's limit ahead. Reports the chosen instant as RFC 3339 (UTC), or
 * undefined for "when approved"; the server checks the limits again and names errors.
 */
export function StartTimeField({ maxDelayMins, onChange, error }: { maxDelayMins: number; onChange: (startsAt: string | undefined) => void; error?: string }) {
  const [later, setLater] = useState(false);
  const [local, setLocal] = useState('');
  // The bounds of the picker, as of when the form opened (the server checks again at submission).
  const [now] = useState(() => Date.now());
  const report = (isLater: boolean, value: string) => {
    const ms = value ? new Date(value).getTime() : NaN;
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
          <span>Start at (your local time)</span>
          <input
            type="datetime-local"
            aria-label="Start at"
            value={local}
            min={toLocalInput(now)}
            max={toLocalInput(now + maxDelayMins * 60_000)}
            onChange={(e) => {
              setLocal(e.target.value);
              report(true, e.target.value);
            }}
          />
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
