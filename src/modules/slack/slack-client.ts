import type { OutboundPolicy, OutboundRequest, OutboundResponse } from '../../net/safe-fetch.ts';

/** The SSRF-safe fetch (src/net/safe-fetch.ts), passed in by the composition root. */
export type OutboundFetch = (url: string, request: OutboundRequest, policy: OutboundPolicy) => Promise<OutboundResponse>;

/** A Block Kit block, as Slack documents it; built in blocks.ts. */
export type Block = Record<string, unknown>;

export interface PostedMessage {
  channel: string;
  ts: string;
}

/**
 * A Slack Web API call that failed. `retryable` says whether trying again later can help:
 * rate limits (with Slack's Retry-After, seconds), server errors and transport failures
 * are; a refused token, a missing channel or bad blocks are not.
 */
export class SlackApiError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: string, retryable: boolean, retryAfterSeconds?: number) {
    super(`slack_api_failed: ${code}${retryAfterSeconds !== undefined ? ` (retry after ${retryAfterSeconds} s)` : ''}`);
    this.code = code;
    this.retryable = retryable;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Slack errors worth retrying beside `ratelimited` (https://api.slack.com/methods/chat.postMessage#errors). */
const RETRYABLE = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

export interface SlackClientOptions {
  /** The Web API base, https://slack.com/api unless INTERIM_SLACK_API_URL says otherwise (tests). */
  apiUrl: string;
  fetch: OutboundFetch;
  outbound: OutboundPolicy;
}

/**
 * The one way Interim talks to Slack: the few Web API methods it needs, JSON bodies with the
 * bot token as a Bearer header, every call through the SSRF-safe fetch; and the
 * `response_url` of an interaction. Slack answers 200 with `{ok: false, error}` for most
 * failures, 429 with Retry-After when rate limited.
 */
export function createSlackClient(options: SlackClientOptions) {
  const base = options.apiUrl.replace(/\/+$/, '');

  async function call(method: string, token: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const response = await options.fetch(
      `${base}/${method}`,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) },
      options.outbound,
    );
    if (response.status === 429) {
      const after = Number(response.headers['retry-after']);
      throw new SlackApiError('ratelimited', true, Number.isFinite(after) ? after : undefined);
    }
    if (response.status >= 500) throw new SlackApiError(`http_${response.status}`, true);
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      throw new SlackApiError(`http_${response.status}_not_json`, response.status >= 500);
    }
    const answer = parsed as { ok?: unknown; error?: unknown };
    if (answer.ok !== true) {
      const code = typeof answer.error === 'string' ? answer.error.replace(/[^\w.-]/g, '').slice(0, 100) : `http_${response.status}`;
      throw new SlackApiError(code, RETRYABLE.has(code));
    }
    return parsed as Record<string, unknown>;
  }

  const posted = (answer: Record<string, unknown>): PostedMessage => {
    if (typeof answer.channel !== 'string' || typeof answer.ts !== 'string') throw new SlackApiError('answer_without_channel_or_ts', false);
    return { channel: answer.channel, ts: answer.ts };
  };

  return {
    /** chat.postMessage: `text` is the notification and fallback, `blocks` the message. */
    async postMessage(token: string, message: { channel: string; text: string; blocks: Block[] }): Promise<PostedMessage> {
      return posted(await call('chat.postMessage', token, { channel: message.channel, text: message.text, blocks: message.blocks, unfurl_links: false, unfurl_media: false }));
    },
    /** chat.update of a message the app posted, by channel and ts. */
    async update(token: string, message: { channel: string; ts: string; text: string; blocks: Block[] }): Promise<PostedMessage> {
      return posted(await call('chat.update', token, { channel: message.channel, ts: message.ts, text: message.text, blocks: message.blocks }));
    },
    /**
     * Answers an interaction through its response_url (no token: the URL is the credential):
     * an ephemeral message to the person who pressed, or a replacement of the original for everyone.
     */
    async respond(responseUrl: string, body: { response_type?: 'ephemeral' | 'in_channel'; replace_original?: boolean; text: string; blocks?: Block[] }): Promise<void> {
      const response = await options.fetch(responseUrl, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) }, options.outbound);
      if (response.status === 429) throw new SlackApiError('ratelimited', true, Number(response.headers['retry-after']) || undefined);
      if (response.status < 200 || response.status > 299) throw new SlackApiError(`response_url_http_${response.status}`, response.status >= 500);
    },
  };
}
export type SlackClient = ReturnType<typeof createSlackClient>;
