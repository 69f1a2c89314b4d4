// The auth module's public surface beyond its service, repos and types: ending one
// application's access for a user when their grant for it ends.
export { revokeAppAccess } from './revocation.ts';
