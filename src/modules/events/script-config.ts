import type { EventPayload } from '../event-payload/event-payload.types.ts';

/**
 * The keys a trigger task or script action reads with config.get(key): always strings,
 * flat, and the same for every event (DESIGN / docs/scripts.md).
 */
export function scriptConfigFromPayload(payload: EventPayload): Record<string, string> {
  const r = payload.request;
  const config: Record<string, string> = {
    trigger_event: payload.type.replace(/^access_request\./, ''),
    event_id: payload.id,
    request_id: r.id,
    requester_email: r.requester.email,
    requester_name: r.requester.name,
    app_name: r.app.name,
    template_name: r.template_name,
    duration_mins: String(r.duration_mins),
    expires_at: r.expires_at ?? '',
    starts_at: r.starts_at ?? '',
    justification: r.justification,
  };
  for (const [key, value] of Object.entries(r.fields)) config[`field.${key}`] = String(value);
  return config;
}
