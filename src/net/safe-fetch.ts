import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { classifyAddress, type AddressClass } from './address-policy.ts';
import { hostOfUrl, normalizeHostName } from './host-names.ts';

/**
 * Outbound HTTP for webhooks, Slack and scripts (DESIGN rule 11): HTTPS to public
 * addresses only. The host name is resolved here, every address is checked, and the
 * connection goes to the checked address, so a DNS answer that changes between the
 * check and the connect (rebinding) cannot redirect it. Redirects are returned, never
 * followed. The response is capped in size and the whole exchange in time.
 */
export interface OutboundPolicy {
  /** Permit loopback, private and other non-public addresses, and plain http. Development and tests. */
  allowPrivate: boolean;
  /** For DNS, connect, request and the whole response body together. */
  timeoutMs: number;
  maxResponseBytes: number;
  /** When given, only these hosts (exact, lowercase; see normalizeHostName) may be reached. */
  allowedHosts?: readonly string[];
}

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Aborts the exchange (e.g. when the script that asked for it has ended). */
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  /** Lowercase names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

export type BlockReason = 'invalid_url' | 'scheme_not_allowed' | 'credentials_in_url' | 'host_not_allowed' | 'non_public_address';
export type FailureReason = 'dns_failed' | 'timeout' | 'response_too_large' | 'connection_failed' | 'invalid_request' | 'aborted';

export class OutboundError extends Error {
  readonly reason: BlockReason | FailureReason;
  constructor(reason: BlockReason | FailureReason, message: string) {
    super(message);
    this.name = new.target.name;
    this.reason = reason;
  }
}

/** Refused by policy before any connection was made. */
export class OutboundBlocked extends OutboundError {
  override readonly reason: BlockReason;
  /** The refused address and its class, for non_public_address. */
  readonly address?: { ip: string; class: AddressClass };
  constructor(reason: BlockReason, message: string, address?: { ip: string; class: AddressClass }) {
    super(reason, message);
    this.reason = reason;
    this.address = address;
  }
}

/** Allowed, but the exchange did not complete. */
export class OutboundFailed extends OutboundError {
  override readonly reason: FailureReason;
  constructor(reason: FailureReason, message: string) {
    super(reason, message);
    this.reason = reason;
  }
}

/** Headers the caller may not set: the connection is ours to describe. */
const RESERVED_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export async function safeFetch(url: string, request: OutboundRequest, policy: OutboundPolicy): Promise<OutboundResponse> {
  const target = checkUrl(url, policy);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new OutboundFailed('timeout', `no complete response from ${target.host} within ${policy.timeoutMs} ms`)), policy.timeoutMs);
  const onCallerAbort = () => controller.abort(new OutboundFailed('aborted', 'the request was aborted'));
  if (request.signal?.aborted) onCallerAbort();
  request.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    const address = await resolvePublicAddress(target.host, policy, controller.signal);
    return await exchange(target.url, address, request, policy, controller.signal);
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onCallerAbort);
  }
}

function checkUrl(raw: string, policy: OutboundPolicy): { url: URL; host: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundBlocked('invalid_url', 'not a valid absolute URL');
  }
  const schemeOk = url.protocol === 'https:' || (url.protocol === 'http:' && policy.allowPrivate);
  if (!schemeOk) throw new OutboundBlocked('scheme_not_allowed', `only https URLs are allowed, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username || url.password) throw new OutboundBlocked('credentials_in_url', 'credentials in the URL are not allowed; send an Authorization header');
  const host = hostOfUrl(url);
  if (policy.allowedHosts) {
    const allowed = policy.allowedHosts.map((h) => normalizeHostName(h) ?? h);
    if (!allowed.includes(host)) throw new OutboundBlocked('host_not_allowed', `the host ${host} is not on the allowlist`);
  }
  return { url, host };
}

interface PinnedAddress {
  ip: string;
  family: 4 | 6;
}

async function resolvePublicAddress(host: string, policy: OutboundPolicy, signal: AbortSignal): Promise<PinnedAddress> {
  let addresses: PinnedAddress[];
  const literal = isIP(host);
  if (literal) {
    addresses = [{ ip: host, family: literal as 4 | 6 }];
  } else {
    try {
      const found = await untilAborted(lookup(host, { all: true, verbatim: true }), signal);
      addresses = found.map((a) => ({ ip: a.address, family: a.family as 4 | 6 }));
    } catch (error) {
      if (error instanceof OutboundError) throw error;
      throw new OutboundFailed('dns_failed', `could not resolve ${host}`);
    }
    if (addresses.length === 0) throw new OutboundFailed('dns_failed', `could not resolve ${host}`);
  }
  if (!policy.allowPrivate) {
    // Every answer is checked: a name that also resolves to an internal address is refused outright.
    for (const { ip } of addresses) {
      const cls = classifyAddress(ip);
      if (cls !== 'public') throw new OutboundBlocked('non_public_address', `${host} resolves to a non-public address (${ip}, ${cls})`, { ip, class: cls });
    }
  }
  return addresses[0]!;
}

function exchange(url: URL, address: PinnedAddress, request: OutboundRequest, policy: OutboundPolicy, signal: AbortSignal): Promise<OutboundResponse> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
    }
    headers.host = url.host;
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    if (body) headers['content-length'] = String(body.length);

    let req: http.ClientRequest;
    try {
      const options: https.RequestOptions = {
        // Connect to the checked address itself; the name only travels in Host and SNI.
        host: address.ip,
        family: address.family,
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: (request.method ?? 'GET').toUpperCase(),
        headers,
        // A fresh connection each time: nothing pinned for one name is reused for another.
        agent: false,
        // The certificate is checked against the name, not the address.
        servername: isIP(hostOfUrl(url)) ? undefined : hostOfUrl(url),
      };
      req = url.protocol === 'https:' ? https.request(options) : http.request(options);
    } catch (error) {
      return reject(new OutboundFailed('invalid_request', `invalid request: ${(error as Error).message}`));
    }

    const fail = (error: unknown) => {
      req.destroy();
      reject(signal.aborted ? signal.reason : error);
    };
    const onAbort = () => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal.removeEventListener('abort', onAbort);

    req.on('error', (error) => {
      done();
      fail(new OutboundFailed('connection_failed', `request to ${url.host} failed: ${error.message}`));
    });
    req.on('response', (res) => {
      const tooLarge = () => new OutboundFailed('response_too_large', `the response from ${url.host} is larger than ${policy.maxResponseBytes} bytes`);
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > policy.maxResponseBytes) {
        done();
        return fail(tooLarge());
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > policy.maxResponseBytes) {
          done();
          fail(tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (error) => {
        done();
        fail(new OutboundFailed('connection_failed', `reading the response from ${url.host} failed: ${error.message}`));
      });
      res.on('close', () => {
        if (res.complete) return;
        done();
        fail(new OutboundFailed('connection_failed', `the response from ${url.host} ended early`));
      });
      res.on('end', () => {
        done();
        if (size > policy.maxResponseBytes) return;
        resolve({ status: res.statusCode ?? 0, headers: flattenHeaders(res.headers), body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(body);
  });
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
