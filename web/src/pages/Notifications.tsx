import { useMutation, useQueryClient } from '@tanstack/react-query';
import { post } from '../api/client.ts';
import { keys, usePagedList } from '../api/queries.ts';
import type { Notification, NotificationPage } from '../api/types.ts';
import { PageHeader } from '../components/Layout.tsx';
import { Empty, PagedView } from '../components/Status.tsx';
import { Link } from '../router.tsx';
import { Time } from '../components/Time.tsx';

function useMarkRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string | null) => post(id ? `/notifications/${id}/read` : '/notifications/read-all'),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.notifications() }),
  });
}

function NotificationItem({ n }: { n: Notification }) {
  const mark = useMarkRead();
  return (
    <li className={`card notification${n.read ? '' : ' is-unread'}`}>
      <div className="request-row-main">
        <p className="eyebrow">
          {!n.read && <span className="unread-dot" aria-hidden="true" />}
          {n.read ? '' : <span className="visually-hidden">Unread: </span>}
          <Time iso={n.created_at} />
        </p>
        <h2 className="h3">
          {n.request_id ? (
            <Link to={`/requests/${n.request_id}${n.kind === 'access_request.expiring_soon' ? '?extend=1' : ''}`} onClick={() => !n.read && mark.mutate(n.id)}>
              {n.title}
            </Link>
          ) : (
            n.title
          )}
        </h2>
        <p className="prewrap">{n.body}</p>
      </div>
      {!n.read && (
        <div className="request-row-side">
          <button type="button" className="btn btn-small" disabled={mark.isPending} onClick={() => mark.mutate(n.id)}>
            Mark read<span className="visually-hidden">: {n.title}</span>
          </button>
        </div>
      )}
    </li>
  );
}

/** In-app notifications, newest first. */
export function NotificationsPage() {
  const list = usePagedList<Notification>(keys.notifications('list'), '/notifications');
  const markAll = useMarkRead();
  const unread = (list.data?.pages[0] as NotificationPage | undefined)?.unread_count ?? 0;
  return (
    <>
      <PageHeader
        title="Notifications"
        lead={unread ? `${unread} unread` : 'You are all caught up.'}
        actions={
          unread > 0 && (
            <button type="button" className="btn" disabled={markAll.isPending} onClick={() => markAll.mutate(null)}>
              Mark all read
            </button>
          )
        }
      />
      <PagedView query={list} loading="Loading notifications…" empty={<Empty title="No notifications">Decisions, comments and requests for you show up here.</Empty>}>
        {(notifications) => (
          <ul className="stack" aria-label="Notifications">
            {notifications.map((n) => (
              <NotificationItem key={n.id} n={n} />
            ))}
          </ul>
        )}
      </PagedView>
    </>
  );
}
