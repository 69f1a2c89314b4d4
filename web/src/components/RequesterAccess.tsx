import { useQuery } from '@tanstack/react-query';
import { get } from '../api/client.ts';
import { keys } from '../api/queries.ts';
import type { AccessRequestDetail, RequesterAccess } from '../api/types.ts';
import { formatClaimValue } from '../lib/format.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import { QueryView } from './Status.tsx';
import { Time } from './Time.tsx';

const claimText = (c: { claim: string; value: string | string[] | boolean }) => `${c.claim} = ${formatClaimValue(c.value)}`;

/**
 * What the requester already holds for the request's application (issue 14 §3), beside the
 * request for those who decide it and admins: their grants there (any template, with the time
 * left), standing memberships that give the application's claims, and their grants elsewhere.
 */
export function RequesterAccessPanel({ request }: { request: AccessRequestDetail }) {
  const { user } = useSession();
  const query = useQuery({
    // Under the request's key, so the live events that refresh the request refresh this too.
    queryKey: [...keys.request(request.id), 'requester-access'],
    queryFn: () => get<RequesterAccess>(`/access-requests/${request.id}/requester-access`),
  });
  const who = request.requester.name || request.requester.email;
  return (
    <section className="panel requester-access" aria-labelledby="requester-access-heading">
      <h2 id="requester-access-heading">Already has</h2>
      <QueryView query={query} loading="Loading what they hold…">
        {(access) => (
          <>
            <h3>Grants for {access.app.name}</h3>
            {access.grants.length === 0 ? (
              <p className="muted">No other grant for {access.app.name}.</p>
            ) : (
              <ul className="plain-list" aria-label={`${who}'s grants for ${access.app.name}`}>
                {access.grants.map((g) => (
                  <li key={g.request_id}>
                    <Link to={`/requests/${g.request_id}`}>{g.template_name}</Link>{' '}
                    <span className="muted small">
                      {g.scheduled ? (
                        <>
                          scheduled, starts <Time iso={g.starts_at} />
                        </>
                      ) : (
                        <>
                          ends <Time iso={g.expires_at} />
                        </>
                      )}
                    </span>
                    <br />
                    {g.grants.map((c) => (
                      <code key={claimText(c)} className="claim">
                        {claimText(c)}
                      </code>
                    ))}
                  </li>
                ))}
              </ul>
            )}
            <h3>Standing access</h3>
            {access.standing.length === 0 ? (
              <p className="muted">No permanent group gives claims of {access.app.name}.</p>
            ) : (
              <ul className="plain-list" aria-label={`${who}'s permanent groups for ${access.app.name}`}>
                {access.standing.map((s) => (
                  <li key={s.group.id}>
                    {user.is_admin ? <Link to={`/admin/groups/${s.group.id}`}>{s.group.name}</Link> : s.group.name}{' '}
                    <span className="muted small">permanent</span>
                    <br />
                    {s.claims.map((c) => (
                      <code key={claimText(c)} className="claim">
                        {claimText(c)}
                      </code>
                    ))}
                  </li>
                ))}
              </ul>
            )}
            <h3>Elsewhere</h3>
            <p>
              {access.other_active_grants === 0
                ? 'No active grant for other applications.'
                : `${access.other_active_grants} active grant${access.other_active_grants === 1 ? '' : 's'} for other applications.`}
              {user.is_admin && access.other_active_grants > 0 && (
                <>
                  {' '}
                  <Link to={`/admin/users/${request.requester.id}`}>See {who}</Link>
                </>
              )}
            </p>
          </>
        )}
      </QueryView>
    </section>
  );
}
