import type { ReactNode } from 'react';
import { ApiError } from '../api/client.ts';

/** A polite "loading" line that screen readers announce. */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 404) return `${error.message}. It may have been deleted, or you may not have access to it.`;
    if (error.status === 403) return `You are not allowed to do this: ${error.message}.`;
    return error.message;
  }
  return error instanceof Error ? error.message : 'Something went wrong.';
}

/** An error box: the API's problem detail, and a retry button when one makes sense. */
export function ErrorMessage({ error, title = 'Something went wrong', retry }: { error: unknown; title?: string; retry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <strong>{title}</strong>
      <p>{errorText(error)}</p>
      {retry && (
        <button type="button" className="btn" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

interface QueryLike<T> {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  data: T | undefined;
  refetch: () => unknown;
}

/** Loading, error, empty or the content: the four states every view has. */
export function QueryView<T>({
  query,
  loading,
  isEmpty,
  empty,
  children,
}: {
  query: QueryLike<T>;
  loading?: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Loading label={loading} />;
  if (query.isError || query.data === undefined) return <ErrorMessage error={query.error} retry={() => void query.refetch()} />;
  if (isEmpty?.(query.data)) return <>{empty}</>;
  return <>{children(query.data)}</>;
}

/** Lists of pages from usePagedList, flattened. */
export function flatPages<T>(data: { pages: { items: T[] }[] } | undefined): T[] {
  return data ? data.pages.flatMap((p) => p.items) : [];
}

interface PagedQueryLike<T> extends QueryLike<{ pages: { items: T[] }[] }> {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

/** A list from usePagedList in its four states: its items, flattened, then "Load more" while pages remain. */
export function PagedView<T>({ query, loading, empty, children }: { query: PagedQueryLike<T>; loading: string; empty: ReactNode; children: (items: T[]) => ReactNode }) {
  return (
    <QueryView query={query} loading={loading} isEmpty={(d) => flatPages(d).length === 0} empty={empty}>
      {(d) => (
        <>
          {children(flatPages(d))}
          <LoadMore query={query} />
        </>
      )}
    </QueryView>
  );
}

export function LoadMore({ query }: { query: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown } }) {
  if (!query.hasNextPage) return null;
  return (
    <div className="load-more">
      <button type="button" className="btn" disabled={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
        {query.isFetchingNextPage ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}
