// The event-actions module's public surface beyond its service, repo and types: how a webhook
// delivery is signed (the events module's performer sends it; receivers verify it).
export { signWebhook, verifyWebhook, webhookHeaders } from './webhook-signature.ts';
export { outboundUrlError } from './event-actions.rules.ts';
