import type { Core } from '../../core.ts';
import type { HttpApp } from '../../http/types.ts';

/** Groups and memberships: placeholder until the module lands. */
export function groupsRoutes(_app: HttpApp, _core: Core): void {}
