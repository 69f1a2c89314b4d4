import type { Flag } from './flag.ts';

/** The outbox, deliveries and their attempts, in-app notifications, scripts and event actions. */

export interface OutboxEventsTable {
  /** The stable event id receivers use to drop duplicates. */
  id: string;
  type: string;
  request_id: string | null;
  template_id: string | null;
  payload: string;
  occurred_at: number;
}

/** `backchannel_logout` and `ssf` carry signals (src/modules/signals), the rest request events. */
export type DeliveryChannel = 'email' | 'slack' | 'webhook' | 'script' | 'trigger' | 'backchannel_logout' | 'ssf';

export type DeliveryStatus = 'pending' | 'running' | 'succeeded' | 'dead';

export interface DeliveriesTable {
  id: string;
  event_id: string;
  request_id: string | null;
  channel: DeliveryChannel;
  /** Where it goes: an email address, `action:<id>`, `trigger:<script id>` … */
  target: string;
  action_id: string | null;
  /** Deliveries with the same key go out in order (one request, one target). */
  ordering_key: string;
  status: DeliveryStatus;
  attempts: number;
  max_attempts: number;
  next_attempt_at: number;
  /** A running delivery whose lease passed was abandoned by a crashed worker. */
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

export interface DeliveryAttemptsTable {
  id: string;
  delivery_id: string;
  at: number;
  ok: Flag;
  duration_ms: number;
  response_status: number | null;
  error: string | null;
}

export interface NotificationsTable {
  id: string;
  user_id: string;
  event_id: string;
  request_id: string | null;
  kind: string;
  title: string;
  body: string;
  read_at: number | null;
  created_at: number;
}

export interface RoundRobinPositionsTable {
  template_id: string;
  pool: string;
  position: number;
}

export interface ScriptsTable {
  id: string;
  name: string;
  description: string;
  source: string;
  /** JSON array of host names http.fetch may reach. */
  allowed_hosts: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface ScriptSecretsTable {
  id: string;
  name: string;
  value_encrypted: string;
  created_at: number;
  updated_at: number;
}

export interface ScriptSecretGrantsTable {
  script_id: string;
  secret_id: string;
}

export interface ScriptRunsTable {
  id: string;
  script_id: string;
  event_id: string | null;
  request_id: string | null;
  trigger_event: string;
  status: 'succeeded' | 'failed' | 'timed_out';
  duration_ms: number;
  /** JSON array of {level, message, at}. */
  logs: string;
  error: string | null;
  started_at: number;
}

export interface EventActionsTable {
  id: string;
  name: string;
  enabled: Flag;
  /** JSON array of event types. */
  event_types: string;
  template_id: string | null;
  kind: 'webhook' | 'slack' | 'slack_app' | 'email' | 'script';
  /** JSON: url, recipients, script_id … (never a secret). */
  config: string;
  /** The webhook signing secret or Slack URL, encrypted with the master key. */
  secret_encrypted: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}
