import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import type { Core } from '../core.ts';
import type { AuthService } from '../modules/auth/auth.service.ts';
import type { Encrypter } from '../security/encryption.ts';

export interface OidcDeps {
  core: Core;
  config: Config;
  auth: AuthService;
  encrypter: Encrypter;
}

/** Mounts the OpenID Provider at /oidc: placeholder until the module lands. */
export async function mountOidc(_app: FastifyInstance, _deps: OidcDeps): Promise<void> {}
