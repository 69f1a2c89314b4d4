import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Client, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { Core } from '../core.ts';
import type { SecondFactors } from '../modules/mfa/index.ts';
import { accountQuery } from '../modules/users/users.repo.ts';
import { CLI_CLIENT_ID } from './cli-client.ts';
import { agoInWords, deviceConfirmPage, deviceDonePage, deviceInputPage, deviceSignInFirstPage } from './device-views.ts';
import { scriptNonceOf } from './page-headers.ts';
import { portalActor } from './portal-session.ts';

export interface DeviceFlowDeps {
  core: Pick<Core, 'db' | 'clock' | 'audit'>;
  baseUrl: string;
  secondFactors?: Pick<SecondFactors, 'methodsOf' | 'webauthnOptions'>;
  /** Derives the passkey challenge of a confirm page (deviceChallenge); without it, no passkey button. */
  challengeKey?: Buffer;
}

/**
 * The WebAuthn challenge of one confirm page: bound to the browser's device-flow form
 * (its xsrf secret), the code and the user, so an assertion made for it confirms only
 * this sign-in; the confirm route derives it again from the form it receives.
 */
export const deviceChallenge = (key: Buffer, xsrf: string, userCode: string, userId: string): string =>
  createHmac('sha256', key).update(`device-confirm\u0000${xsrf}\u0000${userCode}\u0000${userId}`).digest('base64url');

/** What the confirm route (device-confirm.ts) found wrong with a confirmation, for the page it re-renders. */
const confirmErrors = new WeakMap<IncomingMessage, string>();
export const rememberConfirmError = (req: IncomingMessage, message: string) => confirmErrors.set(req, message);

const INPUT_ERRORS: Record<string, string> = {
  NoCodeError: 'Enter the code shown in your terminal.',
  NotFoundError: 'That code is not known. Check it against your terminal and try again.',
  ExpiredError: 'That code has expired. Run `interim login` again for a new one.',
  AlreadyUsedError: 'That code has already been used. Run `interim login` again for a new one.',
  AbortedError: 'The sign-in was cancelled. The command line was told.',
};

/**
 * oidc-provider's device flow (RFC 8628) with our pages. DESIGN "Assurance": for the
 * built-in CLI client only (others lack the grant type, so the provider refuses them);
 * codes live 5 minutes (ttl.DeviceCode); the confirm page warns, says how long ago the
 * sign-in started and names the client; confirming needs the person signed in to the
 * portal in this browser, and their second factor when they have one (checked by the
 * confirm route before the provider sees the form); the sign-in is audited.
 */
export function deviceFlowFeature(deps: DeviceFlowDeps): NonNullable<Configuration['features']>['deviceFlow'] {
  const { core } = deps;
  const emailOf = async (userId: string) => (await accountQuery(core.db, userId).executeTakeFirst())?.email ?? '';
  const html = (ctx: KoaContextWithOIDC, body: string, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = body;
  };
  const xsrfOf = (ctx: KoaContextWithOIDC) => String((ctx.oidc.session?.state as { secret?: string } | undefined)?.secret ?? '');
  return {
    enabled: true,
    charset: 'base-20',
    mask: '****-****',
    async userCodeInputSource(ctx, _form, _out, err) {
      const actor = portalActor(ctx.req);
      if (!actor) return html(ctx, deviceSignInFirstPage(deps.baseUrl), 401);
      const error = err ? (INPUT_ERRORS[err.name] ?? 'That did not work. Try again.') : undefined;
      html(ctx, deviceInputPage({ action: ctx.oidc.urlFor('code_verification'), xsrf: xsrfOf(ctx), email: await emailOf(actor.userId), error }));
    },
    async userCodeConfirmSource(ctx, _form, client: Client, _deviceInfo, userCode) {
      const actor = portalActor(ctx.req);
      if (!actor) return html(ctx, deviceSignInFirstPage(deps.baseUrl, userCode), 401);
      const code = ctx.oidc.entities.DeviceCode as { iat?: number } | undefined;
      const startedMs = code?.iat ? code.iat * 1000 : core.clock.now();
      const xsrf = xsrfOf(ctx);
      const methods = deps.secondFactors ? await deps.secondFactors.methodsOf(core.db, actor.userId) : [];
      const passkey =
        deps.secondFactors && deps.challengeKey && methods.includes('webauthn')
          ? { options: await deps.secondFactors.webauthnOptions(core.db, actor.userId, deviceChallenge(deps.challengeKey, xsrf, userCode, actor.userId)), nonce: scriptNonceOf(ctx) }
          : undefined;
      html(
        ctx,
        deviceConfirmPage({
          action: ctx.oidc.urlFor('code_verification'),
          xsrf,
          userCode,
          clientName: client.clientName ?? client.clientId,
          email: await emailOf(actor.userId),
          startedAgo: agoInWords(core.clock.now() - startedMs),
          needsFactor: methods.length > 0,
          passkey,
          error: confirmErrors.get(ctx.req),
        }),
      );
    },
    async successSource(ctx) {
      const client = ctx.oidc.client!;
      const code = ctx.oidc.entities.DeviceCode as { accountId?: string; grantId?: string; deviceInfo?: { ip?: string; ua?: string } } | undefined;
      if (code?.accountId && client.clientId === CLI_CLIENT_ID) {
        const actor = portalActor(ctx.req) ?? { userId: code.accountId, isAdmin: false, via: 'session' as const, mustChangePassword: false };
        await core.db.transaction().execute((trx) =>
          core.audit.append(trx, {
            actor,
            action: 'oidc.device_login',
            targetType: 'user',
            targetId: code.accountId!,
            data: { client_id: client.clientId, grant_id: code.grantId ?? null, device_ip: code.deviceInfo?.ip ?? null, device_user_agent: code.deviceInfo?.ua ?? null, confirmed_from_ip: ctx.ip },
          }),
        );
      }
      html(ctx, deviceDonePage(client.clientName ?? client.clientId));
    },
  };
}
