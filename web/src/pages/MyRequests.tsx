import { useState } from 'react';
import { keys, usePagedList } from '../api/queries.ts';
import type { AccessRequest, RequestStatus } from '../api/types.ts';
import { SelectField } from '../components/Field.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { CancelButton } from '../components/RequestActions.tsx';
import { ScheduledNote } from '../components/StartTimeField.tsx';
import { Countdown, people, StatusBadge } from '../components/RequestBits.tsx';
import { Empty, PagedView } from '../components/Status.tsx';
import { formatDuration, STATUS_LABEL } from '../lib/format.ts';
import { Link } from '../router.tsx';
import { Time } from '../components/Time.tsx';

function MyRequestRow({ request, receivedAt }: { request: AccessRequest; receivedAt: number }) {
  return (
    <li className="card request-row" data-status={request.status}>
      <div className="request-row-main">
        <h2 className="h3">
          <Link to={`/requests/${request.id}`}>{request.template_name}</Link>
        </h2>
        <p className="muted small">
          {request.app.name} · {request.kind === 'extension' ? `${formatDuration(request.duration_mins)} more (extension)` : formatDuration(request.duration_mins)} · asked <Time iso={request.created_at} />
        </p>
        {request.scheduled && (
          <p className="small">
            <ScheduledNote startsAt={request.starts_at} expiresAt={request.expires_at} />
          </p>
        )}
        {request.status === 'approved' && !request.scheduled && request.seconds_left !== null && (
          <p>
            <Countdown secondsLeft={request.seconds_left} receivedAt={receivedAt} expiresAt={request.expires_at} />
          </p>
        )}
        {(request.status === 'pending' || request.status === 'provisioning') && <p className="small">Notified: {people(request.notified_approvers)}</p>}
        {request.ended_at && (request.status === 'expired' || request.status === 'revoked') && <p className="small muted">Ended <Time iso={request.ended_at} /></p>}
        {request.decision_comment && <p className="small quote-inline">“{request.decision_comment}”</p>}
      </div>
      <div className="request-row-side">
        <StatusBadge status={request.status} escalated={request.escalated && request.status === 'pending'} scheduled={request.scheduled} />
        {(request.status === 'pending' || request.scheduled) && <CancelButton id={request.id} />}
      </div>
    </li>
  );
}

const STATUSES = Object.keys(STATUS_LABEL) as RequestStatus[];

/** The signed-in user's own requests, newest first. */
export function MyRequestsPage() {
  const [status, setStatus] = useState('');
  const list = usePagedList<AccessRequest>(keys.requests('mine'), '/access-requests', { status: status || undefined });
  return (
    <>
      <PageHeader title="My requests" lead="Everything you have asked for, newest first. Active access counts down to its end." actions={<Link to="/" className="btn btn-primary">New request</Link>} />
      <div className="filters">
        <SelectField label="Status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">All</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABEL[s]}
            </option>
          ))}
        </SelectField>
      </div>
      <PagedView
        query={list}
        loading="Loading your requests…"
        empty={
          <Empty title={status ? 'No requests with this status' : 'You have not asked for anything yet'}>
            <Link to="/">Request access</Link> when you need it.
          </Empty>
        }
      >
        {(requests) => (
          <ul className="stack" aria-label="Your requests">
            {requests.map((r) => (
              <MyRequestRow key={r.id} request={r} receivedAt={list.dataUpdatedAt} />
            ))}
          </ul>
        )}
      </PagedView>
    </>
  );
}
