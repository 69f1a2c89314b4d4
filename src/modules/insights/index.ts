// The insights module's public surface: its routes and service (app.ts, compose.ts) and the pure figures.
export { RUBBER_STAMP_SECS } from './figures.ts';
