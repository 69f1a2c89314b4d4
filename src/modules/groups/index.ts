// The groups module's public surface beyond its services, repos and types: the names reserved
// for the groups that grants create.
export { isReservedGroupName, SYSTEM_GROUP_PREFIX } from './system-groups.ts';
