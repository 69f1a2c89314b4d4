// The audit module's public surface beyond its service, repo and types: an audit event as the
// API shows it, and the canonical JSON the chain hashes (templates hash their versions with it).
export { csvCell, toAuditOut } from './audit.export.ts';
export { canonicalJson } from './canonical-json.ts';
