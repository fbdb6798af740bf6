/**
 * A curve on the unit square (ROC, precision–recall), drawn as SVG: uPlot wants one increasing x
 * array, and a PR curve's recall repeats and runs backwards. Several curves overlay in the palette's
 * colours, each named in the legend; a visually hidden table carries the points for screen readers.
 */
import { PALETTE } from "./line-chart";

export interface Curve {
  label: string;
  /** Points as [x, y], both in [0, 1], in drawing order. */
  points: Array<[number, number]>;
}

const SIZE = 240;
const PAD = { left: 40, right: 8, top: 8, bottom: 36 };
const PLOT = SIZE - PAD.left - PAD.right;
const TICKS = [0, 0.25, 0.5, 0.75, 1];

const px = (x: number) => PAD.left + x * PLOT;
const py = (y: number) => PAD.top + (1 - y) * PLOT;

export function CurveChart({
  title,
  curves,
  xLabel,
  yLabel,
  diagonal = false,
  testId,
}: {
  title: string;
  curves: Curve[];
  xLabel: string;
  yLabel: string;
  /** Draw the chance line y = x (ROC). */
  diagonal?: boolean;
  testId?: string;
}) {
  return (
    <figure className="chart-figure curve-figure" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <svg
        viewBox={`0 0 ${SIZE} ${SIZE}`}
        className="curve-chart"
        role="img"
        aria-label={`${title}: ${yLabel} against ${xLabel} for ${curves.map((c) => c.label).join(" and ")}`}
      >
        {TICKS.map((t) => (
          <g key={t} className="curve-grid">
            <line x1={px(t)} x2={px(t)} y1={py(0)} y2={py(1)} stroke="#e5e7eb" />
            <line x1={px(0)} x2={px(1)} y1={py(t)} y2={py(t)} stroke="#e5e7eb" />
            <text x={px(t)} y={py(0) + 14} textAnchor="middle" fontSize="10" fill="#4d4d4d">
              {t}
            </text>
            <text x={px(0) - 4} y={py(t) + 3} textAnchor="end" fontSize="10" fill="#4d4d4d">
              {t}
            </text>
          </g>
        ))}
        <rect x={px(0)} y={py(1)} width={PLOT} height={PLOT} fill="none" stroke="#6b7280" />
        {diagonal && <line x1={px(0)} y1={py(0)} x2={px(1)} y2={py(1)} stroke="#6b7280" strokeDasharray="4 3" />}
        {curves.map((c, i) => (
          <polyline
            key={c.label}
            data-series={c.label}
            points={c.points.map(([x, y]) => `${px(x).toFixed(2)},${py(y).toFixed(2)}`).join(" ")}
            fill="none"
            stroke={PALETTE[i % PALETTE.length]}
            strokeWidth="2"
          />
        ))}
        <text x={px(0.5)} y={SIZE - 6} textAnchor="middle" fontSize="11" fill="#1f2937">
          {xLabel}
        </text>
        <text
          x={12}
          y={py(0.5)}
          textAnchor="middle"
          fontSize="11"
          fill="#1f2937"
          transform={`rotate(-90 12 ${py(0.5)})`}
        >
          {yLabel}
        </text>
      </svg>
      <ul className="curve-legend">
        {curves.map((c, i) => (
          <li key={c.label}>
            <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} aria-hidden="true" />
            {c.label}
          </li>
        ))}
      </ul>
      <div className="sr-only">
        <table>
          <caption>{title} points</caption>
          <thead>
            <tr>
              <th scope="col">Curve</th>
              <th scope="col">{xLabel}</th>
              <th scope="col">{yLabel}</th>
            </tr>
          </thead>
          <tbody>
            {curves.flatMap((c) =>
              c.points.map(([x, y], k) => (
                <tr key={`${c.label}-${k}`}>
                  <td>{c.label}</td>
                  <td>{x}</td>
                  <td>{y}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
