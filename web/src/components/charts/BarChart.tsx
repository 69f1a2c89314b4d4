/**
 * Horizontal bars in inline SVG (no chart library): one row per item, a bar for `value` and
 * an optional tick for `mark` (e.g. the median bar with its p90). The figure has an accessible
 * name; the numbers it shows are also in a table or text beside it (the caller's job), since a
 * picture of numbers is not an alternative to them. Colours come from CSS variables.
 */
export interface Bar {
  label: string;
  value: number | null;
  mark?: number | null;
}

const ROW = 28;
const LABEL_W = 170;
const WIDTH = 640;
const VALUE_W = 90;

export function BarChart({ title, bars, format, markLabel }: { title: string; bars: readonly Bar[]; format: (v: number) => string; markLabel?: string }) {
  const max = Math.max(1, ...bars.flatMap((b) => [b.value ?? 0, b.mark ?? 0]));
  const plot = WIDTH - LABEL_W - VALUE_W;
  const x = (v: number) => LABEL_W + (v / max) * plot;
  const height = Math.max(1, bars.length) * ROW + 8;
  return (
    <figure className="chart">
      <svg role="img" aria-label={title} viewBox={`0 0 ${WIDTH} ${height}`} width="100%" preserveAspectRatio="xMinYMin meet">
        <title>{title}</title>
        {bars.map((b, i) => {
          const y = i * ROW + 4;
          return (
            <g key={`${b.label}-${i}`}>
              <text x={LABEL_W - 8} y={y + ROW / 2} className="chart-label" textAnchor="end" dominantBaseline="middle">
                {b.label.length > 24 ? `${b.label.slice(0, 23)}…` : b.label}
              </text>
              <rect x={LABEL_W} y={y + 5} width={Math.max(0, x(b.value ?? 0) - LABEL_W)} height={ROW - 10} rx={3} className="chart-bar" />
              {b.mark != null && <line x1={x(b.mark)} x2={x(b.mark)} y1={y + 2} y2={y + ROW - 2} className="chart-mark" />}
              <text x={WIDTH - VALUE_W + 12} y={y + ROW / 2} className="chart-value" dominantBaseline="middle">
                {b.value === null ? '—' : format(b.value)}
              </text>
            </g>
          );
        })}
      </svg>
      {markLabel && (
        <figcaption className="chart-legend">
          <span className="legend-swatch chart-bar-swatch" aria-hidden="true" /> bar: median · <span className="legend-swatch chart-mark-swatch" aria-hidden="true" /> line: {markLabel}
        </figcaption>
      )}
    </figure>
  );
}
