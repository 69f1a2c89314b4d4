import { useEffect } from 'react';
import { PageHeader } from '../components/Layout.tsx';

/** A user code as the device page shows it (letters, digits and the dash), or nothing. */
const codeOf = (search: string) => {
  const code = new URLSearchParams(search).get('user_code') ?? '';
  return /^[A-Za-z0-9-]{1,32}$/.test(code) ? code : '';
};

/**
 * /device: where the device sign-in page sends someone who is not signed in yet. Once the
 * portal has signed them in (this page renders only then), it goes back to the device
 * page with the code, to confirm the command-line sign-in there (docs/cli.md).
 */
export function DeviceReturnPage() {
  const code = codeOf(window.location.search);
  const target = `/oidc/device${code ? `?user_code=${encodeURIComponent(code)}` : ''}`;
  useEffect(() => {
    window.location.replace(target);
  }, [target]);
  return (
    <>
      <PageHeader title="Back to the command-line sign-in" />
      <p>
        You are signed in. <a href={target}>Continue to confirm the command-line sign-in</a>.
      </p>
    </>
  );
}
