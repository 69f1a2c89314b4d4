import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { get } from '../api/client.ts';
import { keys, useUnreadCount } from '../api/queries.ts';
import type { LiveEvent, Page, AccessRequest } from '../api/types.ts';
import { eventLabel } from '../lib/format.ts';
import { useLiveUpdates, type LiveState } from '../live.ts';
import { Link, NavLink, useLocation } from '../router.tsx';
import { useSession } from '../session.tsx';

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: 'Connecting to live updates',
  open: 'Live updates on',
  reconnecting: 'Live updates interrupted, reconnecting',
  closed: 'Live updates off; reload the page',
};

function Count({ n, label }: { n: number | undefined; label: string }) {
  if (!n) return null;
  const shown = n > 49 ? '50+' : String(n);
  return (
    <>
      <span className="count" aria-hidden="true">
        {shown}
      </span>
      <span className="visually-hidden">
        , {shown} {label}
      </span>
    </>
  );
}

/** The page frame: skip link, header with the main navigation, the main landmark. */
export function Shell({ children }: { children: ReactNode }) {
  const { user, signOut } = useSession();
  const [announcement, setAnnouncement] = useState('');
  const live = useLiveUpdates((event: LiveEvent) => setAnnouncement(`Update: a request was ${eventLabel(event.type)}.`));
  const unread = useUnreadCount();
  const inbox = useQuery({
    queryKey: keys.requests('inbox', 'count'),
    queryFn: async () => (await get<Page<AccessRequest>>('/access-requests/inbox', { limit: 50 })).items.length,
  });
  const { pathname } = useLocation();
  const shownPath = useRef(pathname);

  // After client-side navigation, move focus to the new page's heading, as a page load would.
  useEffect(() => {
    if (shownPath.current === pathname) return;
    shownPath.current = pathname;
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link to="/" className="brand">
            <span className="brand-mark" aria-hidden="true">
              I
            </span>
            Interim
          </Link>
          <nav aria-label="Main" className="mainnav">
            <ul>
              <li>
                <NavLink to="/" exact>
                  Request access
                </NavLink>
              </li>
              <li>
                <NavLink to="/requests" exact>
                  My requests
                </NavLink>
              </li>
              <li>
                <NavLink to="/inbox">
                  Inbox <Count n={inbox.data} label="waiting for you" />
                </NavLink>
              </li>
              <li>
                <NavLink to="/decided">Decided</NavLink>
              </li>
              <li>
                <NavLink to="/break-glass">Break-glass</NavLink>
              </li>
              <li>
                <NavLink to="/notifications">
                  Notifications <Count n={unread.data} label="unread" />
                </NavLink>
              </li>
              <li>
                <NavLink to="/tokens">API tokens</NavLink>
              </li>
              {user.is_admin && (
                <li>
                  <NavLink to="/admin">Admin</NavLink>
                </li>
              )}
            </ul>
          </nav>
          <div className="account">
            <span className={`live live-${live}`} data-live={live} title={LIVE_TEXT[live]}>
              <span className="visually-hidden">{LIVE_TEXT[live]}</span>
            </span>
            <Link to="/account" className="account-name" title={user.email}>
              {user.name || user.email}
            </Link>
            <button type="button" className="btn btn-small" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <div className="visually-hidden" aria-live="polite">
        {announcement}
      </div>
    </>
  );
}

/** The page heading (focus target after navigation) and the document title. */
export function PageHeader({ title, lead, actions }: { title: string; lead?: ReactNode; actions?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Interim`;
  }, [title]);
  return (
    <div className="page-header">
      <div>
        <h1 tabIndex={-1}>{title}</h1>
        {lead && <p className="lead">{lead}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}
