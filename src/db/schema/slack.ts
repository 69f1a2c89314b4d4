/**
 * Approving from Slack (issue 15, DESIGN "Assurance"), owned by src/modules/slack.
 */

/** The one Slack app of this instance (id 1). Both secrets are sealed (src/security/encryption.ts at slack_app.<column>.1). */
export interface SlackAppTable {
  id: number;
  /** The bot token (xoxb-…), sealed. */
  bot_token: string;
  /** The app's signing secret, sealed: verifies the interactivity requests. */
  signing_secret: string;
  updated_at: number;
}

/**
 * An interactive message posted for a request by an event action of kind `slack_app`: one
 * row per (request, action, stage), reserved in the transaction that records the event and
 * completed with Slack's channel and ts once posted, so every later decision can update it.
 */
export interface SlackMessagesTable {
  id: string;
  request_id: string;
  action_id: string;
  /** The approval stage the buttons decide. */
  stage: number;
  /** Slack's channel id and message ts; null until chat.postMessage answered. */
  channel: string | null;
  ts: string | null;
  created_at: number;
}

/** A one-time link token made from a verified interaction payload, bound to (team, Slack user); only its hash is kept. */
export interface SlackLinkTokensTable {
  id: string;
  token_hash: string;
  team_id: string;
  team_domain: string;
  slack_user_id: string;
  slack_user_name: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** A Slack identity (team, user) linked to an Interim user: at most one link per Slack identity. */
export interface SlackLinksTable {
  id: string;
  user_id: string;
  team_id: string;
  team_domain: string;
  slack_user_id: string;
  slack_user_name: string;
  created_at: number;
}
