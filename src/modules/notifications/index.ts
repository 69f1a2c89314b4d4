// The notifications module's public surface beyond its service, repo and types: in-app
// notifications written in an event's transaction, the approvers to tell, and the e-mail and
// Slack renderers and senders the dispatcher's performers use.
export { createInAppNotifications, renderInApp } from './in-app.ts';
export { resolveApproverRecipients } from './approver-recipients.ts';
export { MailerError, renderEmail, type Mailer } from './email.ts';
export type { Audience } from './event-text.ts';
export { escapeMrkdwnWithin, renderSlackMessage, sendSlack } from './slack.ts';
export { formatInstant, personLabel } from './event-text.ts';
