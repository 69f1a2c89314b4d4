import type { Core } from '../../core.ts';
import { isUniqueViolation } from '../../db/locks.ts';
import type { Actor } from '../../http/actor.ts';
import { AppError, assertThat, conflict, forbidden, notFound } from '../../http/errors.ts';
import { toIso } from '../../http/schemas.ts';
import type { Encrypter, SealedAt } from '../../security/encryption.ts';
import { newId } from '../../security/ids.ts';
import { randomSecret, sha256 } from '../../security/tokens.ts';
import { createInAppNotifications } from '../notifications/index.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { createSlackRepo } from './slack.repo.ts';
import type { SlackSettingsIn } from './slack.types.ts';

/** How long a link token from a Slack button lasts (DESIGN "Assurance"). */
export const LINK_TOKEN_TTL_MS = 10 * 60_000;

const sealedAt = (column: 'bot_token' | 'signing_secret'): SealedAt => ({ table: 'slack_app', column, row: '1' });

export interface SlackSecrets {
  botToken: string;
  signingSecret: string;
}

/** A Slack identity as a verified interaction names it. */
export interface SlackIdentity {
  team_id: string;
  team_domain: string;
  slack_user_id: string;
  slack_user_name: string;
}

/**
 * The Slack app's configuration (admin) and the links between Slack identities and Interim
 * users (each user their own). Secrets are sealed with the master key and never leave the
 * server; every change is audited.
 */
export function createSlackService(core: Pick<Core, 'db' | 'clock' | 'audit' | 'baseUrl'>, deps: { encrypter: Encrypter; apiUrl: string }) {
  const { db, clock, audit } = core;

  const settingsView = (row: { updated_at: number } | undefined) => ({
    configured: row !== undefined,
    updated_at: row ? toIso(Number(row.updated_at)) : null,
    interactivity_url: `${core.baseUrl}/api/v1/slack/interactions`,
    api_url: deps.apiUrl,
  });

  /** Only the session a person signed in with may link or unlink their Slack identity: never an API token. */
  function requireSession(actor: Actor): void {
    if (actor.via !== 'session') throw forbidden('linking Slack needs your Interim sign-in in the portal, not an API token');
  }

  return {
    async settings(actor: Actor) {
      assertThat(actor.isAdmin, forbidden());
      return settingsView(await createSlackRepo(db).app());
    },

    async saveSettings(actor: Actor, input: SlackSettingsIn) {
      assertThat(actor.isAdmin, forbidden());
      return db.transaction().execute(async (trx) => {
        const repo = createSlackRepo(trx);
        const before = await repo.app();
        const now = clock.now();
        await repo.saveApp({ bot_token: deps.encrypter.encrypt(input.bot_token, sealedAt('bot_token')), signing_secret: deps.encrypter.encrypt(input.signing_secret, sealedAt('signing_secret')), updated_at: now });
        // Never the secrets themselves: only that they were set or replaced.
        await audit.append(trx, { actor, action: 'slack.app_configured', targetType: 'slack_app', targetId: null, data: { replaced: before !== undefined } });
        return settingsView({ updated_at: now });
      });
    },

    /** Idempotent: removing what is not there changes (and audits) nothing. */
    async removeSettings(actor: Actor) {
      assertThat(actor.isAdmin, forbidden());
      await db.transaction().execute(async (trx) => {
        if (await createSlackRepo(trx).deleteApp()) await audit.append(trx, { actor, action: 'slack.app_removed', targetType: 'slack_app', targetId: null, data: {} });
      });
    },

    /** The bot token and signing secret, or undefined while the app is not configured. */
    async secrets(): Promise<SlackSecrets | undefined> {
      const row = await createSlackRepo(db).app();
      if (!row) return undefined;
      return { botToken: deps.encrypter.decrypt(row.bot_token, sealedAt('bot_token')), signingSecret: deps.encrypter.decrypt(row.signing_secret, sealedAt('signing_secret')) };
    },

    /** The Interim user a Slack identity is linked to, if that user is still active. */
    async linkedUser(teamId: string, slackUserId: string): Promise<{ id: string; is_admin: boolean; must_change_password: boolean } | undefined> {
      const link = await createSlackRepo(db).linkOf(teamId, slackUserId);
      if (!link) return undefined;
      const user = await createUsersRepo(db).findById(link.user_id);
      if (!user || user.disabled) return undefined;
      return { id: user.id, is_admin: user.is_admin === 1, must_change_password: user.must_change_password === 1 };
    },

    /** A one-time link token for the identity of a verified interaction; only its hash is stored. Returns the page's URL. */
    async issueLinkToken(identity: SlackIdentity): Promise<{ url: string; expires_at: string }> {
      const token = randomSecret();
      const now = clock.now();
      const expires = now + LINK_TOKEN_TTL_MS;
      await createSlackRepo(db).insertLinkToken({ id: newId(clock), token_hash: sha256(token), ...identity, created_at: now, expires_at: expires });
      return { url: `${core.baseUrl}/slack/link/${token}`, expires_at: toIso(expires) };
    },

    /** What a link token would link, for the confirm page. Reading never spends it (Slack unfurls links). */
    async describeLinkToken(actor: Actor, token: string) {
      requireSession(actor);
      const row = await createSlackRepo(db).liveLinkToken(sha256(token), clock.now());
      assertThat(row, new AppError(404, 'link_token_invalid', 'this link has expired or was already used; press the button in Slack again for a new one'));
      return { team_id: row.team_id, team_domain: row.team_domain, slack_user_id: row.slack_user_id, slack_user_name: row.slack_user_name, expires_at: toIso(Number(row.expires_at)) };
    },

    /**
     * Links the token's Slack identity to the signed-in user: the token is spent by a
     * conditional update (one confirmation wins), the link is unique per Slack identity,
     * the change is audited and the user told in the app.
     */
    async confirmLinkToken(actor: Actor, token: string) {
      requireSession(actor);
      const invalid = new AppError(404, 'link_token_invalid', 'this link has expired or was already used; press the button in Slack again for a new one');
      return db.transaction().execute(async (trx) => {
        const repo = createSlackRepo(trx);
        const now = clock.now();
        const row = await repo.liveLinkToken(sha256(token), now);
        assertThat(row, invalid);
        assertThat(await repo.spendLinkToken(row.id, now), invalid);
        const link = { id: newId(clock), user_id: actor.userId, team_id: row.team_id, team_domain: row.team_domain, slack_user_id: row.slack_user_id, slack_user_name: row.slack_user_name, created_at: now };
        try {
          await repo.insertLink(link);
        } catch (error) {
          if (isUniqueViolation(error)) throw conflict('slack_identity_linked', 'this Slack identity is already linked to an Interim account; remove that link first');
          throw error;
        }
        const identity = { team_id: link.team_id, team_domain: link.team_domain, slack_user_id: link.slack_user_id, slack_user_name: link.slack_user_name };
        await audit.append(trx, { actor, action: 'slack.linked', targetType: 'user', targetId: actor.userId, data: { link_id: link.id, ...identity } });
        await createInAppNotifications(
          trx,
          [
            {
              userId: actor.userId,
              eventId: link.id,
              requestId: null,
              kind: 'slack.linked',
              title: 'Slack account linked',
              body: `The Slack user @${link.slack_user_name} in the workspace ${link.team_domain || link.team_id} can now approve and deny requests as you. If this was not you, remove the link under Account → Slack and tell your administrator.`,
            },
          ],
          clock,
        );
        return link;
      });
    },

    async listLinks(actor: Actor) {
      return createSlackRepo(db).linksOf(actor.userId);
    },

    /** Any caller may remove their own links (it only takes a power away). */
    async removeLink(actor: Actor, id: string) {
      await db.transaction().execute(async (trx) => {
        const repo = createSlackRepo(trx);
        const link = await repo.findLink(id);
        assertThat(link && link.user_id === actor.userId && (await repo.deleteLink(id, actor.userId)), notFound('Slack link'));
        await audit.append(trx, { actor, action: 'slack.unlinked', targetType: 'user', targetId: actor.userId, data: { link_id: id, team_id: link.team_id, slack_user_id: link.slack_user_id } });
      });
    },

    /** Drops link tokens that expired a day ago or more (the worker's purge). */
    purgeExpiredLinkTokens: async (): Promise<number> => Number((await createSlackRepo(db).purgeLinkTokens(clock.now() - 24 * 60 * 60_000))[0]?.numDeletedRows ?? 0),
  };
}
export type SlackService = ReturnType<typeof createSlackService>;
