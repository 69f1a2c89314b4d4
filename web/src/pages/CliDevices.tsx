import { useQuery } from '@tanstack/react-query';
import { get } from '../api/client.ts';
import type { CliDevice } from '../api/types.ts';
import { ConfirmDeleteButton } from '../components/ConfirmDeleteButton.tsx';
import { Empty, QueryView } from '../components/Status.tsx';
import { DataTable } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';

const DEVICES_KEY = ['me', 'devices'] as const;

/**
 * Your command-line sign-ins (DESIGN "Assurance": device logins are revocable in the
 * portal): when each was confirmed and last used; signing one out ends its tokens at once.
 */
export function CliDevicesSection() {
  const devices = useQuery({ queryKey: DEVICES_KEY, queryFn: () => get<{ items: CliDevice[] }>('/me/devices') });
  return (
    <section className="panel" aria-labelledby="cli-devices-heading">
      <h2 id="cli-devices-heading">Command-line sign-ins</h2>
      <p className="muted">
        Terminals where you ran <code>interim login</code> and confirmed the code. Revoke any you do not recognise.
      </p>
      <QueryView query={devices} loading="Loading sign-ins…" isEmpty={(page) => page.items.length === 0} empty={<Empty title="No command-line sign-ins" />}>
        {(page) => (
          <DataTable caption="Your command-line sign-ins" columns={['Signed in', 'Last used', 'Ends']} actions>
            {page.items.map((d, i) => (
              <tr key={d.id}>
                <td><Time iso={d.created_at} /></td>
                <td><Time iso={d.last_used_at} fallback="Not yet" /></td>
                <td><Time iso={d.expires_at} fallback="Never" /></td>
                <td>
                  <ConfirmDeleteButton
                    path={`/me/devices/${d.id}`}
                    queryKey={DEVICES_KEY}
                    confirm="Revoke this command-line sign-in? That terminal must run `interim login` again."
                    label="Revoke"
                    busyLabel="Revoking…"
                    ariaLabel={`Revoke command-line sign-in ${i + 1}`}
                  />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </QueryView>
    </section>
  );
}
