/** A boolean column: 0 or 1 in both dialects. */
export type Flag = 0 | 1;
