// The payload contract moved down into its own leaf module, so that the notifications
// renderers (which events calls) need not import events. The events module's own files
// keep importing it from here.
export * from '../event-payload/event-payload.types.ts';
