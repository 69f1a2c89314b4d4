import { useQuery } from '@tanstack/react-query';
import { get } from '../api/client.ts';
import { keys } from '../api/queries.ts';
import type { AccessRequestDetail } from '../api/types.ts';
import { PageHeader } from '../components/Layout.tsx';
import { CancelButton, DecisionPanel, RevokePanel } from '../components/RequestActions.tsx';
import { ExtendGrant, ExtensionOf } from '../components/ExtendGrant.tsx';
import { Countdown, people, RequestFacts, StatusBadge } from '../components/RequestBits.tsx';
import { QueryView } from '../components/Status.tsx';
import { ScheduledNote } from '../components/StartTimeField.tsx';
import { Thread } from '../components/Thread.tsx';
import { BreakGlassSection } from '../components/BreakGlass.tsx';
import { StageProgress } from '../components/StageProgress.tsx';
import { useSession } from '../session.tsx';
import { Time } from '../components/Time.tsx';
import { RequestTimeline } from '../components/RequestTimeline.tsx';
import { RequesterAccessPanel } from '../components/RequesterAccess.tsx';

/** On an ended grant: who approved it and when, before how it ended (the decision comment below is theirs). */
function ApprovedEarlier({ request }: { request: AccessRequestDetail }) {
  if (!request.approved_at) return null;
  return (
    <>
      Approved by {request.decided_by?.name ?? 'the system'} <Time iso={request.approved_at} />.{' '}
    </>
  );
}

function Outcome({ request, receivedAt }: { request: AccessRequestDetail; receivedAt: number }) {
  switch (request.status) {
    case 'pending':
    case 'provisioning':
      return (
        <p>
          Waiting for a decision. Notified: {people(request.notified_approvers)}.
          {request.escalated && (
            <>
              {' '}
              Escalated <Time iso={request.escalated_at} />.
            </>
          )}
        </p>
      );
    case 'approved':
      return (
        <p>
          Approved by {request.decided_by?.name ?? 'the system'} <Time iso={request.approved_at} />.{' '}
          {request.scheduled && <ScheduledNote startsAt={request.starts_at} expiresAt={request.expires_at} />}
          {!request.scheduled && request.seconds_left !== null && <Countdown secondsLeft={request.seconds_left} receivedAt={receivedAt} expiresAt={request.expires_at} />}
        </p>
      );
    case 'denied':
      return (
        <p>
          Denied by {request.decided_by?.name ?? 'an approver'} <Time iso={request.decided_at} />.
        </p>
      );
    case 'cancelled':
      if (request.end_reason === 'reverted') {
        return (
          <p>
            Ended <Time iso={request.ended_at ?? request.updated_at} /> before its approval took effect{request.provisioning_error ? `: ${request.provisioning_error}.` : '.'}
          </p>
        );
      }
      return <p>Withdrawn <Time iso={request.ended_at ?? request.updated_at} />.</p>;
    case 'expired':
      return (
        <p>
          <ApprovedEarlier request={request} />
          The access ended on its own <Time iso={request.ended_at ?? request.expires_at} />.
        </p>
      );
    case 'lapsed':
      return <p>Lapsed <Time iso={request.ended_at} />: nobody decided in time.</p>;
    case 'extended':
      return (
        <p>
          Approved by {request.decided_by?.name ?? 'the system'} <Time iso={request.decided_at} />: the grant now lasts until <Time iso={request.expires_at} />.
        </p>
      );
    case 'revoked':
      return (
        <p>
          <ApprovedEarlier request={request} />
          Revoked by {request.ended_by?.name ?? 'an administrator'} <Time iso={request.ended_at} />
          {request.revoke_reason ? `: “${request.revoke_reason}”` : '.'}
        </p>
      );
  }
}

function Detail({ request, receivedAt }: { request: AccessRequestDetail; receivedAt: number }) {
  const { user } = useSession();
  const own = request.requester.id === user.id;
  const open = request.status === 'pending' || request.status === 'provisioning' || request.status === 'approved';
  return (
    <div className="detail-grid">
      <div className="detail-main">
        <section className="panel" aria-labelledby="summary-heading">
          <div className="panel-head">
            <h2 id="summary-heading">Request</h2>
            <StatusBadge status={request.status} escalated={request.escalated && request.status === 'pending'} scheduled={request.scheduled} />
          </div>
          <ExtensionOf request={request} />
          <Outcome request={request} receivedAt={receivedAt} />
          {request.decision_comment && (
            <blockquote className="quote">
              <span className="visually-hidden">Decision comment: </span>
              {request.decision_comment}
            </blockquote>
          )}
          <StageProgress request={request} />
          <RequestFacts request={request} />
          <BreakGlassSection request={request} />
          {own && (request.status === 'pending' || request.can_cancel) && <CancelButton id={request.id} />}
        </section>
        {request.can_decide && <DecisionPanel request={request} />}
        {request.extension && <ExtendGrant request={request} />}
        {request.can_revoke && <RevokePanel request={request} own={own} />}
        <Thread requestId={request.id} comments={request.comments} open={open} />
        <RequestTimeline request={request} />
      </div>
      <aside className="detail-side" aria-label="People">
        <section className="panel">
          <h2>Requester</h2>
          <p>
            <strong>{request.requester.name}</strong>
            <br />
            <span className="muted">{request.requester.email}</span>
          </p>
          <h3>Current groups</h3>
          {request.requester_groups.length === 0 ? (
            <p className="muted">No groups.</p>
          ) : (
            <ul className="plain-list" aria-label="Requester's current groups">
              {request.requester_groups.map((g) => (
                <li key={g.id}>
                  {g.name}
                  {g.expires_at && <span className="muted small"> until <Time iso={g.expires_at} /></span>}
                </li>
              ))}
            </ul>
          )}
        </section>
        {request.can_see_requester_access && <RequesterAccessPanel request={request} />}
        <section className="panel">
          <h2>Approvers notified</h2>
          {request.notified_approvers.length === 0 ? (
            <p className="muted">Nobody was notified.</p>
          ) : (
            <ul className="plain-list">
              {request.notified_approvers.map((p) => (
                <li key={p.id}>{p.name || p.email}</li>
              ))}
            </ul>
          )}
          <p className="muted small">Submitted <Time iso={request.created_at} />.</p>
        </section>
      </aside>
    </div>
  );
}

/** One request: what it asks, where it stands, the decision or revocation, and the thread. */
export function RequestDetailPage({ id }: { id: string }) {
  const query = useQuery({ queryKey: keys.request(id), queryFn: () => get<AccessRequestDetail>(`/access-requests/${id}`) });
  const title = query.data ? `${query.data.template_name}` : 'Request';
  return (
    <>
      <PageHeader title={title} lead={query.data ? `Requested by ${query.data.requester.name} for ${query.data.app.name}` : undefined} />
      <QueryView query={query} loading="Loading the request…">
        {(request) => <Detail request={request} receivedAt={query.dataUpdatedAt} />}
      </QueryView>
    </>
  );
}
