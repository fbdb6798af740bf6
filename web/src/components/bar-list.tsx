/**
 * Horizontal bars, one per named value, longest first (e.g. feature importance): names stay
 * readable at any count, where a vertical bar chart's axis labels would collide. SVG, with a
 * visually hidden table of the same numbers for screen readers.
 */
import { formatNumber } from "../lib/format";
import { PALETTE } from "./line-chart";

const ROW = 22;
const LABEL = 120;
const BAR = 180;
const VALUE = 72;

export function BarList({
  title,
  values,
  valueLabel,
  testId,
}: {
  title: string;
  values: Array<[string, number]>;
  valueLabel: string;
  testId?: string;
}) {
  const sorted = [...values].sort((a, b) => b[1] - a[1]);
  const max = Math.max(...sorted.map(([, v]) => v), Number.MIN_VALUE);
  const width = LABEL + BAR + VALUE;
  return (
    <figure className="chart-figure" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <svg
        viewBox={`0 0 ${width} ${sorted.length * ROW}`}
        className="bar-list"
        role="img"
        aria-label={`${title}: ${valueLabel} of ${sorted.length} ${sorted.length === 1 ? "entry" : "entries"}, largest first`}
      >
        {sorted.map(([name, v], i) => (
          <g key={name} data-bar={name} data-value={v}>
            <text x={LABEL - 6} y={i * ROW + 15} textAnchor="end" fontSize="11" fill="#1a1a1a">
              {name.length > 18 ? `${name.slice(0, 17)}…` : name}
            </text>
            <rect x={LABEL} y={i * ROW + 4} width={Math.max(1, (v / max) * BAR)} height={ROW - 8} fill={PALETTE[0]} />
            <text x={LABEL + BAR + 4} y={i * ROW + 15} fontSize="11" fill="#4d4d4d">
              {formatNumber(v)}
            </text>
          </g>
        ))}
      </svg>
      <div className="sr-only">
        <table>
          <caption>{title} values</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">{valueLabel}</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map(([name, v]) => (
              <tr key={name}>
                <td>{name}</td>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
