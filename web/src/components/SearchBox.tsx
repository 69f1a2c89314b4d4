import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { navigate, useLocation } from '../router.tsx';
import { Empty } from './Status.tsx';

/** Typing waits this long before the list asks again: one request per pause, not per key. */
const DEBOUNCE_MS = 300;
/** The API's limit for search text (searchText in src/http/schemas.ts). */
const MAX_LENGTH = 200;

/** A list's text search as it stands in the URL (`?q=`), so a search can be shared, bookmarked and gone back to. */
export function useSearchQuery(param = 'q'): string {
  return useLocation().search.get(param)?.trim() ?? '';
}

function setParam(param: string, value: string): void {
  const url = new URL(window.location.href);
  if (value) url.searchParams.set(param, value);
  else url.searchParams.delete(param);
  navigate(url.pathname + url.search, { replace: true, keepScroll: true });
}

/**
 * The search box of an admin list: a labelled search field whose text reaches the URL (and so
 * the list) after a pause in typing, at once on Enter, and is cleared by its button or Escape.
 */
export function SearchBox({ label, placeholder, param = 'q' }: { label: string; placeholder?: string; param?: string }) {
  const id = useId();
  const committed = useSearchQuery(param);
  const [text, setText] = useState(committed);
  const sent = useRef(committed);

  // The URL changed from elsewhere (back, a link): show its search.
  useEffect(() => {
    if (committed !== sent.current) {
      sent.current = committed;
      setText(committed);
    }
  }, [committed]);

  const commit = (value: string) => {
    const wanted = value.trim();
    sent.current = wanted;
    setParam(param, wanted);
  };

  useEffect(() => {
    if (text.trim() === sent.current) return;
    const timer = window.setTimeout(() => commit(text), DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- commit only reads the param, which is fixed per box
  }, [text]);

  const clear = () => {
    setText('');
    commit('');
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    commit(text);
  };

  return (
    <form role="search" className="search-box" onSubmit={submit}>
      <label htmlFor={id}>{label}</label>
      <div className="search-box-row">
        <input
          id={id}
          type="search"
          value={text}
          placeholder={placeholder}
          maxLength={MAX_LENGTH}
          autoComplete="off"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && text) {
              e.preventDefault();
              clear();
            }
          }}
        />
        {text && (
          <button type="button" className="btn btn-small btn-ghost" onClick={clear}>
            Clear<span className="visually-hidden"> the search</span>
          </button>
        )}
      </div>
    </form>
  );
}

/** What an empty list says: no match for the search (with a way out), or the list's own empty state. */
export function SearchEmpty({ q, param = 'q', children }: { q: string; param?: string; children: ReactNode }) {
  if (!q) return <>{children}</>;
  return (
    <Empty title={`No match for “${q}”`}>
      <button type="button" className="btn btn-small" onClick={() => setParam(param, '')}>
        Show all
      </button>
    </Empty>
  );
}
