// The requests module's public surface beyond its service, repo and types: ending the requests
// that stand on something being retired (applications and mappings call it; users and
// templates reach it through their hooks) and who may see a request (the live stream).
export { assertMappingsUnused, endRequestsBackedBy, type Backing } from './backing.ts';
export { liveGroupIdsOf, mayView } from './eligibility.ts';
