import { useState } from 'react';

/** Copies a value to the clipboard and says so. */
export function CopyButton({ value, label = 'Copy' }: { value: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button type="button" className="btn btn-small" onClick={() => void navigator.clipboard?.writeText(value).then(() => setCopied(true))}>
      {copied ? 'Copied' : label}
    </button>
  );
}
