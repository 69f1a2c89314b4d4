// The requests module's public surface beyond its service, repo and types: who may see a
// request (the live stream). What it does when something it stands on is retired, it offers
// through the hooks of the lower modules (backing.ts), wired in the composition root.
export { liveGroupIdsOf, mayView } from './eligibility.ts';
