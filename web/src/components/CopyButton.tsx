import { useState } from 'react';

/**
 * Copies a value to the clipboard and says so, for a moment, on the button and to screen
 * readers. `what` names the value ("client id"); `label` is the button's visible words when
 * "Copy" alone would not say what is copied (then it is also the accessible name).
 */
export function CopyButton({ value, what, label }: { value: string; what: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-small"
      aria-label={label ? undefined : `Copy ${what}`}
      onClick={() => {
        void navigator.clipboard?.writeText(value).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 2000);
        });
      }}
    >
      {copied ? 'Copied' : (label ?? 'Copy')}
      <span className="visually-hidden" role="status">
        {copied ? `${what} copied` : ''}
      </span>
    </button>
  );
}
