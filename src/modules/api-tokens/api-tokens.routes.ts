import type { Core } from '../../core.ts';
import type { HttpApp } from '../../http/types.ts';

/** API tokens: placeholder until the module lands. */
export function apiTokensRoutes(_app: HttpApp, _core: Core): void {}
