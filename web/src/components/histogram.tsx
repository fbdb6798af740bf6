/**
 * Bar histogram over uPlot: one or more series over the same bins (e.g. reference vs current),
 * drawn side by side. A visually hidden table carries the counts for screen readers.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { PALETTE } from "./line-chart";

export interface Bars {
  label: string;
  values: number[];
}

export function Histogram({
  title,
  bins,
  series,
  height = 180,
  testId,
}: {
  title: string;
  bins: string[];
  series: Bars[];
  height?: number;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || bins.length === 0) return;
    const n = series.length;
    const xs = bins.map((_, i) => i);
    const plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        scales: { x: { time: false, range: [-0.5, bins.length - 0.5] } },
        axes: [{ values: (_u, splits) => splits.map((i) => bins[Math.round(i)] ?? ""), space: 50 }, {}],
        series: [
          { label: "bin", value: (_u, i) => (i == null ? "—" : (bins[Math.round(i)] ?? "")) },
          ...series.map((s, k) => ({
            label: s.label,
            fill: PALETTE[k % PALETTE.length] + "cc",
            stroke: PALETTE[k % PALETTE.length],
            paths: uPlot.paths.bars!({ size: [0.8 / n, Infinity], align: n === 1 ? 0 : k === 0 ? -1 : 1, gap: 1 }),
            points: { show: false },
          })),
        ],
        legend: { live: false },
      },
      [xs, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [bins, series, height]);
  return (
    <figure className="chart-figure" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div
        ref={box}
        className="chart"
        role="img"
        aria-label={`${title}: histogram of ${series.map((s) => s.label).join(" and ")}`}
      />
      <div className="sr-only">
        <table>
          <caption>{title} counts</caption>
          <thead>
            <tr>
              <th scope="col">Bin</th>
              {series.map((s) => (
                <th key={s.label} scope="col">
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {bins.map((b, i) => (
              <tr key={b + i}>
                <td>{b}</td>
                {series.map((s) => (
                  <td key={s.label}>{s.values[i]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
