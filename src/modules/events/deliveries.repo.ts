import type { Selectable } from 'kysely';
import type { DeliveriesTable } from '../../db/schema.ts';

export type DeliveryRow = Selectable<DeliveriesTable>;
