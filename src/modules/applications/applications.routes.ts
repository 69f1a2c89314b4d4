import type { Core } from '../../core.ts';
import type { HttpApp } from '../../http/types.ts';

/** Applications (OIDC clients) and mappings: placeholder until the module lands. */
export function applicationsRoutes(_app: HttpApp, _core: Core): void {}
