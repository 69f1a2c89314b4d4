import { lazy, Suspense, type ReactNode } from 'react';
import { useSessionQuery } from './api/queries.ts';
import { PageHeader, Shell } from './components/Layout.tsx';
import { ErrorMessage, Loading } from './components/Status.tsx';
import { StepUpProvider } from './components/StepUp.tsx';
import { ApiTokensPage } from './pages/ApiTokens.tsx';
import { AccountPage, ForcedPasswordChangePage } from './pages/ChangePassword.tsx';
import { CataloguePage } from './pages/Catalogue.tsx';
import { DecidedPage, InboxPage } from './pages/Inbox.tsx';
import { LoginPage } from './pages/Login.tsx';
import { MyRequestsPage } from './pages/MyRequests.tsx';
import { NotificationsPage } from './pages/Notifications.tsx';
import { RequestDetailPage } from './pages/RequestDetail.tsx';
import { RequestFormPage } from './pages/RequestForm.tsx';
import { BreakGlassQueuePage } from './pages/BreakGlassQueue.tsx';
import { DecidePage } from './pages/Decide.tsx';
import { EnrolmentRequiredPage } from './pages/security/EnrolmentRequired.tsx';
import { SecurityPage } from './pages/security/SecurityPage.tsx';
import { SlackLinkPage } from './pages/SlackLinks.tsx';
import { DeviceReturnPage } from './pages/DeviceReturn.tsx';
import { Link, matchPath, useLocation } from './router.tsx';
import { SessionProvider, useSession } from './session.tsx';

// Administration is its own chunk: most people never load it.
const AdminArea = lazy(() => import('./pages/admin/AdminArea.tsx'));

type Route = [pattern: string, render: (params: Record<string, string>) => ReactNode];

const ROUTES: Route[] = [
  ['/', () => <CataloguePage />],
  ['/request/:templateId', (p) => <RequestFormPage templateId={p.templateId!} />],
  ['/requests', () => <MyRequestsPage />],
  ['/requests/:id', (p) => <RequestDetailPage key={p.id} id={p.id!} />],
  ['/inbox', () => <InboxPage />],
  ['/decided', () => <DecidedPage />],
  ['/break-glass', () => <BreakGlassQueuePage />],
  ['/notifications', () => <NotificationsPage />],
  ['/account', () => <AccountPage />],
  ['/tokens', () => <ApiTokensPage />],
  ['/decide/:token', (p) => <DecidePage key={p.token} token={p.token!} />],
  ['/account/security', () => <SecurityPage />],
  ['/slack/link/:token', (p) => <SlackLinkPage token={p.token!} />],
  ['/device', () => <DeviceReturnPage />],
];

function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <p>
        There is nothing at this address. <Link to="/">Go to the catalogue</Link>.
      </p>
    </>
  );
}

export function AdminOnly({ children }: { children: ReactNode }) {
  const { user } = useSession();
  if (!user.is_admin) {
    return (
      <>
        <PageHeader title="Administrators only" />
        <p role="alert">This part of Interim is for administrators. Ask one if you need something changed.</p>
        <p>
          <Link to="/">Back to the catalogue</Link>
        </p>
      </>
    );
  }
  return <>{children}</>;
}

function Routes() {
  const { pathname } = useLocation();
  if (pathname === '/admin' || pathname.startsWith('/admin/')) {
    return (
      <AdminOnly>
        <Suspense fallback={<Loading label="Loading administration…" />}>
          <AdminArea pathname={pathname} />
        </Suspense>
      </AdminOnly>
    );
  }
  for (const [pattern, render] of ROUTES) {
    const params = matchPath(pattern, pathname);
    if (params) return <>{render(params)}</>;
  }
  return <NotFoundPage />;
}

/** Signed out → sign-in; bootstrap password → change it; the MFA policy's hold → add a factor; otherwise the portal. */
export function App() {
  const session = useSessionQuery();
  if (session.isPending) {
    return (
      <main id="main" className="auth-page">
        <Loading label="Starting Interim…" />
      </main>
    );
  }
  if (session.isError) {
    return (
      <main id="main" className="auth-page">
        <ErrorMessage error={session.error} title="Interim could not be reached" retry={() => void session.refetch()} />
      </main>
    );
  }
  if (!session.data) return <LoginPage />;
  return (
    <SessionProvider session={session.data}>
      <SignedIn enrolmentRequired={session.data.mfa_enrolment_required === true} />
    </SessionProvider>
  );
}

function SignedIn({ enrolmentRequired }: { enrolmentRequired: boolean }) {
  const { user, signOut } = useSession();
  if (user.must_change_password) return <ForcedPasswordChangePage onSignOut={() => void signOut()} />;
  if (enrolmentRequired) return <EnrolmentRequiredPage onSignOut={() => void signOut()} />;
  return (
    <StepUpProvider>
      <Shell>
        <Routes />
      </Shell>
    </StepUpProvider>
  );
}
