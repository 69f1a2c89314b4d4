import { useInfiniteQuery, useQuery, type QueryClient } from '@tanstack/react-query';
import { ApiError, get } from './client.ts';
import type { NotificationPage, Page, Requestable, Session } from './types.ts';
import type { Group } from './admin-types.ts';

/**
 * Query keys. Live events invalidate by prefix: ['requests'] covers every request list,
 * ['request', id] one request's detail.
 */
export const keys = {
  session: ['session'] as const,
  requestable: ['requestable'] as const,
  requests: (list: string, ...rest: unknown[]) => ['requests', list, ...rest] as const,
  request: (id: string) => ['request', id] as const,
  notifications: (...rest: unknown[]) => ['notifications', ...rest] as const,
  admin: (what: string, ...rest: unknown[]) => ['admin', what, ...rest] as const,
};

/** The signed-in session, or null when nobody is signed in. */
export function useSessionQuery() {
  return useQuery({
    queryKey: keys.session,
    queryFn: async (): Promise<Session | null> => {
      try {
        return await get<Session>('/session');
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: Infinity,
    retry: false,
  });
}

/** Every page of a cursor-paginated list, for pickers (capped: a picker of thousands helps nobody). */
export async function fetchAll<T>(path: string, query: Record<string, string> = {}, maxPages = 10): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const res: Page<T> = await get<Page<T>>(path, { ...query, limit: 200, cursor: cursor ?? undefined });
    items.push(...res.items);
    cursor = res.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** A cursor-paginated list shown with a "Load more" button. */
export function usePagedList<T>(queryKey: readonly unknown[], path: string, query: Record<string, string | number | undefined> = {}, limit = 50) {
  return useInfiniteQuery({
    queryKey: [...queryKey, query],
    queryFn: ({ pageParam }) => get<Page<T>>(path, { ...query, limit, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export const useRequestable = () => useQuery({ queryKey: keys.requestable, queryFn: () => fetchAll<Requestable>('/access-request-templates/requestable') });

export const useUnreadCount = () =>
  useQuery({ queryKey: keys.notifications('count'), queryFn: async () => (await get<NotificationPage>('/notifications', { limit: 1 })).unread_count });

export const useAllGroups = () => useQuery({ queryKey: keys.admin('groups', 'all'), queryFn: () => fetchAll<Group>('/groups') });

/** What a live event makes stale. */
export function invalidateForEvent(client: QueryClient, requestId: string | null): void {
  void client.invalidateQueries({ queryKey: ['requests'] });
  void client.invalidateQueries({ queryKey: ['notifications'] });
  void client.invalidateQueries({ queryKey: keys.admin('audit') });
  void client.invalidateQueries({ queryKey: keys.admin('deliveries') });
  if (requestId) void client.invalidateQueries({ queryKey: keys.request(requestId) });
}
