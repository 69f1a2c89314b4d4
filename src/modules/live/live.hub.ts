import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Core } from '../../core.ts';
import type { Actor } from '../../http/actor.ts';
import { createApiTokensRepo } from '../api-tokens/api-tokens.repo.ts';
import { createSessionsRepo } from '../auth/sessions.repo.ts';
import { outboxPageAfter } from '../events/index.ts';
import { createAudience, type LiveEvent } from './audience.ts';
import { OutboxCursor } from './outbox-cursor.ts';

export interface LiveOptions {
  /** How often the outbox is read, and every listener's session re-checked, while anyone listens. */
  pollMs: number;
  /** How often a comment line keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  /** The portal session's idle timeout, to notice a session that has ended. */
  sessionIdleMs: number;
  /** Streams one user may hold open at once (one per browser tab). */
  maxPerUser: number;
  /** Of these CLI sign-ins (provider grant ids, Actor.tokenId when via is 'cli'), the live ones, with their user's admin flag (src/oidc answers; it sits above this module). */
  liveCliSignIns?: (grantIds: string[], now: number) => Promise<{ id: string; is_admin: number }[]>;
}

interface Listener {
  actor: Actor;
  res: ServerResponse;
}

const PAGE = 500;
const MAX_PER_POLL = 5000;

/**
 * The live feed behind GET /api/v1/live. It reads the outbox, the table every
 * instance writes its events to, so a listener hears about changes made by any
 * instance. One poll loop per process runs while anyone listens; each listener gets
 * only `{type, request_id}` of the events about requests it may see.
 */
export function createLiveHub(core: Pick<Core, 'db' | 'clock'>, options: LiveOptions, log: FastifyBaseLogger) {
  const listeners = new Set<Listener>();
  let cursor: OutboxCursor | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let polling = false;
  let closed = false;

  const send = (l: Listener, chunk: string) => {
    if (!l.res.writableEnded) l.res.write(chunk);
  };

  const end = (l: Listener) => {
    listeners.delete(l);
    if (!l.res.writableEnded) l.res.end();
    if (listeners.size === 0) stop();
  };

  async function readNewEvents(): Promise<LiveEvent[]> {
    const now = core.clock.now();
    const events: { id: string; type: string; request_id: string | null }[] = [];
    let after = cursor!.lowerBound(now);
    while (events.length < MAX_PER_POLL) {
      const page = await outboxPageAfter(core.db, after, PAGE);
      events.push(...page);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    // Signals (request_id null) are for applications, not for people watching the portal.
    return cursor!
      .accept(events, now)
      .flatMap((e) => (e.request_id === null ? [] : [{ type: e.type, request_id: e.request_id }]));
  }

  async function poll(): Promise<void> {
    if (polling || !cursor) return;
    polling = true;
    try {
      // Every poll first drops the streams whose session or user is gone, so an ended
      // session hears nothing more, whichever process or instance ended it.
      await recheckAll();
      if (listeners.size === 0) return;
      const events = await readNewEvents();
      if (events.length === 0 || listeners.size === 0) return;
      const mayHear = createAudience(core.db, core.clock.now());
      for (const listener of [...listeners]) {
        for (const event of events) {
          if (await mayHear(listener.actor, event)) send(listener, `data: ${JSON.stringify(event)}\n\n`);
        }
      }
    } catch (err) {
      if (!closed) log.error({ err }, 'live feed: reading the outbox failed');
    } finally {
      polling = false;
    }
  }

  /**
   * Ends streams whose session, API token, CLI sign-in or user is gone, and follows a change
   * of the admin flag. At most three queries for all listeners of the process: live
   * sessions, live API tokens, and live CLI sign-ins.
   */
  async function recheckAll(): Promise<void> {
    const now = core.clock.now();
    const all = [...listeners];
    const keyOf = (a: Actor) => (a.via === 'session' ? a.sessionId : a.tokenId);
    const ids = (via: Actor['via']) => [...new Set(all.flatMap((l) => (l.actor.via === via && keyOf(l.actor) ? [keyOf(l.actor)!] : [])))];
    const cliIds = ids('cli');
    const [sessions, tokens, cli] = await Promise.all([
      createSessionsRepo(core.db).findLiveMany(ids('session'), now, options.sessionIdleMs),
      createApiTokensRepo(core.db).findLiveMany(ids('token'), now),
      cliIds.length && options.liveCliSignIns ? options.liveCliSignIns(cliIds, now) : [],
    ]);
    const live = new Map<string, boolean>([...sessions, ...tokens, ...cli].map((r) => [r.id, r.is_admin === 1]));
    for (const l of all) {
      const key = keyOf(l.actor);
      const isAdmin = key === undefined ? undefined : live.get(key);
      if (isAdmin === undefined) end(l);
      else l.actor = { ...l.actor, isAdmin };
    }
  }

  function heartbeat(): void {
    for (const l of [...listeners]) send(l, ': keep-alive\n\n');
  }

  function start(): void {
    cursor = new OutboxCursor(core.clock.now());
    pollTimer = setInterval(() => void poll(), options.pollMs);
    heartbeatTimer = setInterval(heartbeat, options.heartbeatMs);
    pollTimer.unref();
    heartbeatTimer.unref();
  }

  function stop(): void {
    clearInterval(pollTimer);
    clearInterval(heartbeatTimer);
    pollTimer = heartbeatTimer = undefined;
    cursor = undefined;
  }

  return {
    /** Too many streams for this user already? */
    full: (actor: Actor) => [...listeners].filter((l) => l.actor.userId === actor.userId).length >= options.maxPerUser,

    /** Takes over an open event-stream response until the client or the server closes it. */
    add(actor: Actor, res: ServerResponse): void {
      if (closed) {
        res.end();
        return;
      }
      const listener: Listener = { actor, res };
      listeners.add(listener);
      res.on('close', () => end(listener));
      if (!cursor) start();
    },

    get size() {
      return listeners.size;
    },

    /** Ends every stream (server shutdown): clients see a clean end and reconnect elsewhere. */
    close(): void {
      closed = true;
      for (const l of [...listeners]) end(l);
      stop();
    },
  };
}
export type LiveHub = ReturnType<typeof createLiveHub>;
