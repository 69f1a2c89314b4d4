import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, post } from '../api/client.ts';
import { ConfirmDeleteButton } from '../components/ConfirmDeleteButton.tsx';
import type { SlackLink, SlackLinkToken } from '../api/types.ts';
import { FormError } from '../components/Field.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { Empty, ErrorMessage, Loading, QueryView } from '../components/Status.tsx';
import { DataTable } from '../components/Table.tsx';
import { Time } from '../components/Time.tsx';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';

const LINKS_KEY = ['slack-links'] as const;

const workspaceOf = (l: Pick<SlackLink, 'team_domain' | 'team_id'>) => (l.team_domain ? `${l.team_domain}.slack.com` : l.team_id);

/**
 * The page a Slack button's one-time link opens (docs/slack.md): it names the workspace and
 * the Slack handle, and links them to the signed-in person only when they confirm. Opening
 * it changes nothing (Slack and browsers fetch links to preview them).
 */
export function SlackLinkPage({ token }: { token: string }) {
  const { user } = useSession();
  const client = useQueryClient();
  const info = useQuery({ queryKey: ['slack-link-token', token], queryFn: () => get<SlackLinkToken>(`/slack/link-tokens/${encodeURIComponent(token)}`), retry: false });
  const confirm = useMutation({
    mutationFn: () => post<SlackLink>(`/slack/link-tokens/${encodeURIComponent(token)}/confirm`),
    onSuccess: () => client.invalidateQueries({ queryKey: LINKS_KEY }),
  });

  if (confirm.data) {
    return (
      <>
        <PageHeader title="Slack account linked" />
        <p className="notice notice-success" role="status">
          @{confirm.data.slack_user_name} in {workspaceOf(confirm.data)} now approves and denies as you. Press the button in Slack again to decide.
        </p>
        <p>
          <Link to="/account">See your linked Slack accounts</Link>
        </p>
      </>
    );
  }
  if (info.isPending) return <Loading label="Reading the link…" />;
  if (info.isError) {
    const gone = info.error instanceof ApiError && (info.error.status === 404 || info.error.status === 400);
    return (
      <>
        <PageHeader title="Link your Slack account" />
        {gone ? (
          <p className="notice notice-warning" role="alert">
            This link has expired or was already used. Press Approve or Deny in Slack again for a new one; it works once, for 10 minutes.
          </p>
        ) : (
          <ErrorMessage error={info.error} retry={() => void info.refetch()} />
        )}
      </>
    );
  }
  const t = info.data;
  return (
    <>
      <PageHeader title="Link your Slack account" lead="Approve and deny requests from Slack as yourself." />
      <section className="panel" aria-labelledby="slack-link-heading">
        <h2 id="slack-link-heading">Is this you?</h2>
        <dl className="facts">
          <div>
            <dt>Slack workspace</dt>
            <dd>{workspaceOf(t)}</dd>
          </div>
          <div>
            <dt>Slack user</dt>
            <dd>@{t.slack_user_name}</dd>
          </div>
          <div>
            <dt>Interim account</dt>
            <dd>{user.email}</dd>
          </div>
          <div>
            <dt>Link valid until</dt>
            <dd>
              <Time iso={t.expires_at} absolute />
            </dd>
          </div>
        </dl>
        <p className="notice notice-warning">
          Confirm only if you pressed the button in Slack yourself a moment ago. Whoever uses this Slack account will then decide requests as {user.email}.
        </p>
        <FormError error={confirm.error} />
        <div className="form-actions">
          <button type="button" className="btn btn-primary" disabled={confirm.isPending} onClick={() => confirm.mutate()}>
            {confirm.isPending ? 'Linking…' : `Link @${t.slack_user_name} to my account`}
          </button>
          <Link to="/" className="btn">
            Cancel
          </Link>
        </div>
      </section>
    </>
  );
}

/** The Account page's section: the Slack identities that decide as this user, each removable. */
export function SlackLinksSection() {
  const links = useQuery({ queryKey: LINKS_KEY, queryFn: () => get<{ items: SlackLink[] }>('/me/slack-links') });
  return (
    <section className="panel" aria-labelledby="slack-links-heading">
      <h2 id="slack-links-heading">Slack</h2>
      <p>Slack accounts linked here can approve and deny requests as you, from the buttons of Interim’s messages. Link one by pressing such a button in Slack.</p>
      <QueryView query={links} loading="Loading Slack links…" isEmpty={(d) => d.items.length === 0} empty={<Empty title="No Slack account is linked" />}>
        {(d) => (
          <DataTable caption="Your linked Slack accounts" columns={['Workspace', 'Slack user', 'Linked']} actions>
            {d.items.map((l) => (
              <tr key={l.id}>
                <td>{workspaceOf(l)}</td>
                <td>@{l.slack_user_name}</td>
                <td>
                  <Time iso={l.created_at} />
                </td>
                <td>
                  <ConfirmDeleteButton
                    path={`/me/slack-links/${l.id}`}
                    queryKey={LINKS_KEY}
                    confirm={`Remove the link to @${l.slack_user_name}? Its buttons in Slack stop deciding as you.`}
                    label="Remove"
                    busyLabel="Removing…"
                    ariaLabel={`Remove the link to @${l.slack_user_name} in ${workspaceOf(l)}`}
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
