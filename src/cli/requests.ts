import type { Api } from './api.ts';
import { openBrowser } from './browser.ts';
import { CliError, EXIT } from './exit-codes.ts';
import { minutesInWords } from './parse.ts';
import { systemClock } from '../clock.ts';

export interface Template {
  id: string;
  name: string;
  description: string;
  app: { id: string; name: string };
  allowed_durations: number[];
  require_justification: boolean;
  custom_fields: { key: string; label: string; type: string; required: boolean; options?: string[] }[];
  auto_approve: boolean;
}

export interface AccessRequest {
  id: string;
  template_name: string;
  app: { id: string; name: string };
  requester: { id: string; email: string; name: string };
  status: string;
  duration_mins: number;
  justification: string;
  scheduled: boolean;
  starts_at: string | null;
  expires_at: string | null;
  decided_by: { email: string } | null;
  decision_comment: string | null;
  created_at: string;
  [key: string]: unknown;
}

interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A pause that does not keep the process alive (the live feed's reconnects, once the command is done). */
const idle = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** Every page of a list endpoint (a user's lists are short; a cap keeps a runaway loop finite). */
export async function all<T>(api: Api, path: string, maxPages = 50): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page: Page<T> = await api.call<Page<T>>('GET', `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}

/** A template the caller may request, by id or by name (any case). */
export async function findTemplate(api: Api, ref: string): Promise<Template> {
  const templates = await all<Template>(api, '/api/v1/access-request-templates/requestable');
  const byId = templates.find((t) => t.id === ref);
  if (byId) return byId;
  const byName = templates.filter((t) => t.name.toLowerCase() === ref.trim().toLowerCase());
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new CliError(EXIT.usage, `more than one template is named "${ref}"; use its id (interim templates)`);
  throw new CliError(EXIT.error, `no template you may request is named "${ref}" (interim templates lists them)`);
}

/** --field values as the API wants them: checkbox fields as booleans. */
export function fieldsFor(template: Template, given: Record<string, string>): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(given)) {
    const field = template.custom_fields.find((f) => f.key === key);
    if (!field) throw new CliError(EXIT.usage, `"${template.name}" has no field "${key}"; its fields: ${template.custom_fields.map((f) => f.key).join(', ') || 'none'}`);
    if (field.type === 'checkbox') {
      if (!/^(true|false|yes|no)$/i.test(value)) throw new CliError(EXIT.usage, `--field ${key} is a checkbox: write ${key}=true or ${key}=false`);
      out[key] = /^(true|yes)$/i.test(value);
    } else out[key] = value;
  }
  return out;
}

export const GRANTED = new Set(['approved', 'extended']);
const ENDED_WITHOUT_ACCESS = new Set(['denied', 'cancelled', 'lapsed', 'expired', 'revoked']);

/** One line per request: id, status, template, duration, and when it ends or starts. */
export function requestLine(r: AccessRequest): string {
  const when = r.status === 'approved' && r.scheduled && r.starts_at ? `starts ${r.starts_at}` : r.expires_at ? `until ${r.expires_at}` : '';
  return [r.id, r.status.padEnd(9), r.template_name, minutesInWords(r.duration_mins), when].filter(Boolean).join('  ');
}

export function requestDetails(r: AccessRequest): string {
  const lines = [
    `Request      ${r.id}`,
    `Status       ${r.status}${r.scheduled ? ' (scheduled)' : ''}`,
    `Template     ${r.template_name} (${r.app.name})`,
    `Requester    ${r.requester.name} <${r.requester.email}>`,
    `Duration     ${minutesInWords(r.duration_mins)}`,
    `Reason       ${r.justification || '—'}`,
    `Submitted    ${r.created_at}`,
  ];
  if (r.starts_at) lines.push(`Starts       ${r.starts_at}`);
  if (r.expires_at) lines.push(`Ends         ${r.expires_at}`);
  if (r.decided_by) lines.push(`Decided by   ${r.decided_by.email}${r.decision_comment ? `: ${r.decision_comment}` : ''}`);
  return lines.join('\n');
}

/**
 * Wakes the waiter whenever the live feed (GET /api/v1/live, server-sent events) names this
 * request, reconnecting after a dropped stream; `connected` says whether it is open now.
 */
function followLive(api: Api, id: string, wake: () => void) {
  const controller = new AbortController();
  const state = { connected: false };
  void (async () => {
    while (!controller.signal.aborted) {
      const body = await api.openStream('/api/v1/live', controller.signal);
      if (!body) {
        await idle(5000);
        continue;
      }
      state.connected = true;
      // A change may have happened while the stream was down: look once.
      wake();
      let buffered = '';
      const decoder = new TextDecoder();
      try {
        for await (const chunk of body) {
          buffered += decoder.decode(chunk, { stream: true });
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) {
            if (!line.startsWith('data:')) continue;
            try {
              if ((JSON.parse(line.slice(5)) as { request_id?: string }).request_id === id) wake();
            } catch {
              // Not one of ours: ignore it.
            }
          }
        }
      } catch {
        // Dropped (or aborted): reconnect below, or stop.
      }
      state.connected = false;
      if (!controller.signal.aborted) await idle(1000);
    }
  })();
  return { state, stop: () => controller.abort() };
}

/**
 * --wait: follows the request until it is decided. It listens to the live feed and looks
 * at the request whenever the feed names it; without the feed (or besides it, in case an
 * event is missed) it polls with backoff, 1 s doubling to 10 s (60 s while the feed is
 * open). Granted (active or scheduled) answers it; anything that ends without access is a
 * CliError with exit code 4.
 */
export async function waitForDecision(api: Api, id: string, say: (line: string) => void, timeoutMs = Number.POSITIVE_INFINITY): Promise<AccessRequest> {
  const until = systemClock.now() + timeoutMs;
  let wakeUp: () => void = () => undefined;
  const live = followLive(api, id, () => wakeUp());
  try {
    let delay = 1000;
    let last = '';
    for (;;) {
      const r = await api.call<AccessRequest>('GET', `/api/v1/access-requests/${encodeURIComponent(id)}`);
      if (r.status !== last) {
        if (last) say(`status: ${r.status}`);
        last = r.status;
      }
      if (GRANTED.has(r.status)) return r;
      if (ENDED_WITHOUT_ACCESS.has(r.status)) throw new CliError(EXIT.denied, `request ${r.status}${r.decision_comment ? `: ${r.decision_comment}` : ''}`, { request: r });
      if (systemClock.now() > until) throw new CliError(EXIT.error, 'stopped waiting; the request is still open');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, live.state.connected ? 60_000 : delay);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      delay = Math.min(delay * 2, 10_000);
    }
  } finally {
    live.stop();
  }
}

export type Decision = 'approve' | 'deny' | 'revoke';

/** What a decision sends besides itself: a revocation's reason, or the approver's comment when there is one. */
export const decisionBody = (decision: Decision, opts: { comment?: string; reason?: string }): { reason?: string } | { comment?: string } =>
  decision === 'revoke' ? { reason: opts.reason } : opts.comment !== undefined ? { comment: opts.comment } : {};

/** The statuses a request can have right after each decision (an approval may leave it pending: a later stage, or a quorum not met yet). */
const OUTCOME_OF: Record<Decision, Set<string>> = {
  approve: new Set(['pending', 'provisioning', ...GRANTED]),
  deny: new Set(['denied']),
  revoke: new Set(['revoked']),
};

/**
 * A decision that answered 403 step_up_required: asks the server for a one-time decision
 * link (POST /api/v1/decision-links), opens it in the browser (or prints it), and waits,
 * polling the request, until the decision is recorded, the link expires (exit 5; by the
 * server's clock), or the request ends another way meanwhile (exit 1).
 */
export async function decideInBrowser(
  api: Api,
  opts: { id: string; decision: Decision; stage?: number; comment?: string; reason?: string; browser: boolean; say: (line: string) => void },
): Promise<AccessRequest> {
  const before = await api.call<AccessRequest>('GET', `/api/v1/access-requests/${encodeURIComponent(opts.id)}`);
  const link = await api.call<{ url: string; expires_at: string }>('POST', '/api/v1/decision-links', {
    request_id: opts.id,
    decision: opts.decision,
    ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
    ...decisionBody(opts.decision, opts),
  });
  opts.say(`This decision needs your second factor. Open ${link.url} to confirm it (the link works once, until ${link.expires_at}).`);
  if (opts.browser && openBrowser(link.url)) opts.say('Opened your browser; waiting for the decision…');
  const until = Date.parse(link.expires_at);
  let delay = 1000;
  for (;;) {
    await sleep(delay);
    delay = Math.min(delay * 2, 5000);
    // The link expires by the server's clock, which this computer's may not match: read the
    // server's time (the session answer's server_time), and read it BEFORE the request, so a
    // decision made before that moment (the latest a live link can complete) shows below.
    const serverTime = await serverNow(api);
    const now = await api.call<AccessRequest>('GET', `/api/v1/access-requests/${encodeURIComponent(opts.id)}`);
    if (now.status !== before.status || now.updated_at !== before.updated_at) {
      if (OUTCOME_OF[opts.decision].has(now.status)) return now;
      // Someone else ended it meanwhile (the requester cancelled, another approver denied): the link can no longer decide.
      throw new CliError(EXIT.error, `the request was ${now.status} meanwhile${now.decided_by ? ` (by ${now.decided_by.email})` : ''}; your decision was not made`, { request: now });
    }
    if (serverTime >= until) throw new CliError(EXIT.stepUp, 'the decision link expired before the decision was confirmed; nothing was decided');
  }
}

/** The server's current time (GET /api/v1/session's server_time), in ms since the epoch. */
async function serverNow(api: Api): Promise<number> {
  const session = await api.call<{ server_time: string }>('GET', '/api/v1/session');
  const time = Date.parse(session.server_time);
  if (!Number.isFinite(time)) throw new CliError(EXIT.error, 'the server did not say its time (server_time); is it an older Interim?');
  return time;
}
