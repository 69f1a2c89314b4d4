import { useQuery } from '@tanstack/react-query';
import { get } from '../../api/client.ts';
import { keys } from '../../api/queries.ts';
import { Link } from '../../router.tsx';
import { useSession } from '../../session.tsx';

/** For an admin: how many pending requests wait for other approvers, with a link to them (issue 14 §1). */
export function PendingElsewhere() {
  const { user } = useSession();
  const count = useQuery({
    queryKey: keys.requests('pending-elsewhere'),
    queryFn: async () => (await get<{ count: number }>('/access-requests/all/pending-elsewhere')).count,
    enabled: user.is_admin,
  });
  if (!user.is_admin || !count.data) return null;
  return (
    <p className="notice" data-testid="pending-elsewhere">
      {count.data === 1 ? '1 pending request waits' : `${count.data} pending requests wait`} for other approvers.{' '}
      <Link to="/admin/requests?status=pending">See all pending requests</Link>
    </p>
  );
}
