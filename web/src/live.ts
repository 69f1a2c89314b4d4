import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { invalidateForEvent } from './api/queries.ts';
import type { LiveEvent } from './api/types.ts';

export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * Subscribes to GET /api/v1/live. Each message names an event and a request; the
 * matching queries refetch. On every (re)connection everything request-shaped is
 * refetched too, since events may have passed while the stream was not there.
 */
export function useLiveUpdates(onEvent?: (event: LiveEvent) => void): LiveState {
  const client = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');
  const onEventRef = useRef(onEvent);
  useEffect(() => {
    onEventRef.current = onEvent;
  });
  useEffect(() => {
    const source = new EventSource('/api/v1/live');
    source.onopen = () => {
      invalidateForEvent(client, null);
      setState('open');
    };
    // The browser retries by itself after a dropped stream; a refused one (e.g. 401) stays closed.
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    source.onmessage = (message: MessageEvent<string>) => {
      let event: LiveEvent;
      try {
        event = JSON.parse(message.data) as LiveEvent;
      } catch {
        return;
      }
      invalidateForEvent(client, event.request_id);
      onEventRef.current?.(event);
    };
    return () => source.close();
  }, [client]);
  return state;
}
