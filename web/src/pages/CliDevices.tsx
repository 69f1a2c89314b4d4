import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { del, get } from '../api/client.ts';
import type { CliDevice } from '../api/types.ts';
import { FormError } from '../components/Field.tsx';
import { Empty, QueryView } from '../components/Status.tsx';
import { DataTable } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';

const DEVICES_KEY = ['me', 'devices'] as const;

function RevokeButton({ device, index }: { device: CliDevice; index: number }) {
  const client = useQueryClient();
  const end = useMutation({
    mutationFn: () => del(`/me/devices/${device.id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: DEVICES_KEY }),
  });
  return (
    <>
      <button
        type="button"
        className="btn btn-small btn-danger"
        disabled={end.isPending}
        aria-label={`Revoke command-line sign-in ${index + 1}`}
        onClick={() => {
          if (window.confirm('Revoke this command-line sign-in? That terminal must run `interim login` again.')) end.mutate();
        }}
      >
        {end.isPending ? 'Revoking…' : 'Revoke'}
      </button>
      {end.error && <FormError error={end.error} />}
    </>
  );
}

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
      <QueryView query={devices} loading="Loading sign-ins…">
        {(page) =>
          page.items.length === 0 ? (
            <Empty title="No command-line sign-ins" />
          ) : (
            <DataTable caption="Your command-line sign-ins" columns={['Signed in', 'Last used', 'Ends']} actions>
              {page.items.map((d, i) => (
                <tr key={d.id}>
                  <td><Time iso={d.created_at} /></td>
                  <td><Time iso={d.last_used_at} fallback="Not yet" /></td>
                  <td><Time iso={d.expires_at} fallback="Never" /></td>
                  <td>
                    <RevokeButton device={d} index={i} />
                  </td>
                </tr>
              ))}
            </DataTable>
          )
        }
      </QueryView>
    </section>
  );
}
