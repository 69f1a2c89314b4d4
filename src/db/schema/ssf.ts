/** The Shared Signals transmitter's tables (src/modules/ssf, migration 0013). */
export type SsfDeliveryMethod = 'push' | 'poll';
export type SsfSubjectFormat = 'iss_sub' | 'email';
export type SsfStreamStatus = 'enabled' | 'paused' | 'disabled';

export interface SsfStreamsTable {
  id: string;
  app_id: string;
  delivery_method: SsfDeliveryMethod;
  /** Push: the receiver's URL; poll: null (the transmitter's poll URL is derived from the id). */
  endpoint_url: string | null;
  /** Push: the Authorization header value to send, sealed with the master key; null when none. */
  authorization_header_encrypted: string | null;
  /** JSON array of event type URIs the receiver asked for. */
  events_requested: string;
  format: SsfSubjectFormat;
  description: string;
  status: SsfStreamStatus;
  status_reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface SsfSubjectsTable {
  stream_id: string;
  user_id: string;
  created_at: number;
}

export interface SsfHeldTable {
  /** Time-ordered id: events are released in this order. */
  id: string;
  stream_id: string;
  event_id: string;
  user_id: string;
}

export interface SsfPollQueueTable {
  jti: string;
  /** Time-ordered id: served in this order. */
  position: string;
  stream_id: string;
  /** The SET's claims as JSON (signed when served). */
  claims: string;
  created_at: number;
}
