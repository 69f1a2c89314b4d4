/**
 * One horizontal bar per item split into two parts (e.g. granted time used before the last
 * token and the rest), as shares of the item's total, in inline SVG. Accessible name on the
 * figure; the caller shows the same numbers in a table.
 */
export interface Stack {
  label: string;
  first: number;
  second: number;
}

const ROW = 28;
const LABEL_W = 170;
const WIDTH = 640;
const VALUE_W = 60;

export function StackedBars({ title, stacks, firstLabel, secondLabel }: { title: string; stacks: readonly Stack[]; firstLabel: string; secondLabel: string }) {
  const plot = WIDTH - LABEL_W - VALUE_W;
  const height = Math.max(1, stacks.length) * ROW + 8;
  return (
    <figure className="chart">
      <svg role="img" aria-label={title} viewBox={`0 0 ${WIDTH} ${height}`} width="100%" preserveAspectRatio="xMinYMin meet">
        <title>{title}</title>
        {stacks.map((s, i) => {
          const y = i * ROW + 4;
          const total = s.first + s.second;
          const share = total === 0 ? 0 : s.first / total;
          return (
            <g key={`${s.label}-${i}`}>
              <text x={LABEL_W - 8} y={y + ROW / 2} className="chart-label" textAnchor="end" dominantBaseline="middle">
                {s.label.length > 24 ? `${s.label.slice(0, 23)}…` : s.label}
              </text>
              {total === 0 ? (
                <rect x={LABEL_W} y={y + 5} width={plot} height={ROW - 10} rx={3} className="chart-empty" />
              ) : (
                <>
                  <rect x={LABEL_W} y={y + 5} width={plot * share} height={ROW - 10} className="chart-bar" />
                  <rect x={LABEL_W + plot * share} y={y + 5} width={plot * (1 - share)} height={ROW - 10} className="chart-rest" />
                </>
              )}
              <text x={WIDTH - VALUE_W + 12} y={y + ROW / 2} className="chart-value" dominantBaseline="middle">
                {total === 0 ? '—' : `${Math.round(share * 100)}%`}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="chart-legend">
        <span className="legend-swatch chart-bar-swatch" aria-hidden="true" /> {firstLabel} · <span className="legend-swatch chart-rest-swatch" aria-hidden="true" /> {secondLabel}
      </figcaption>
    </figure>
  );
}
