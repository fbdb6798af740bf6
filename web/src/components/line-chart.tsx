/**
 * Line chart over uPlot: several series on one x axis (steps, or time in ms), sized to its container.
 * A visually hidden table carries the same numbers for screen readers.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { xRange } from "../lib/chart-range";

export interface Series {
  label: string;
  /** Points as [x, y]; x need not be shared between series. */
  points: Array<[number, number | null]>;
}

/** Colour-blind-safe palette (Okabe–Ito), dark enough for 3:1 contrast against white. */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8c6d00", "#56B4E9", "#000000"];

/** uPlot wants one shared x array; series get nulls where they have no point. */
export function alignSeries(series: Series[]): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const col: Array<number | null> = new Array<number | null>(xs.length).fill(null);
    for (const [x, y] of s.points) col[index.get(x)!] = y;
    return col;
  });
  return [xs, ...ys] as uPlot.AlignedData;
}

export function LineChart({
  title,
  series,
  xLabel,
  time = false,
  height = 240,
  testId,
}: {
  title: string;
  series: Series[];
  xLabel: string;
  /** x values are ms since the epoch. */
  time?: boolean;
  height?: number;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data = alignSeries(series);
    // uPlot's time scale is in seconds.
    const unit = time ? 1000 : 1;
    const range = xRange(Array.from(data[0]), time);
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: {
        x: { time, ...(range ? { range: (): uPlot.Range.MinMax => [range[0] / unit, range[1] / unit] } : {}) },
      },
      axes: [{ label: xLabel }, {}],
      series: [
        {
          label: xLabel,
          value: time ? (_u, v) => (v == null ? "—" : new Date(v).toISOString().slice(11, 19)) : undefined,
        },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          spanGaps: true,
          points: { show: s.points.length < 60 },
        })),
      ],
      legend: { live: false },
    };
    const plotData = time ? ([data[0].map((x) => x / unit), ...data.slice(1)] as uPlot.AlignedData) : data;
    // The drawn axis, for tests and tools: what uPlot settled on, in the data's units.
    const figure = el.parentElement;
    opts.hooks = {
      setScale: [
        (u, key) => {
          const { min, max } = u.scales[key] ?? {};
          if (key !== "x" || !figure || min == null || max == null) return;
          figure.dataset.xMin = String(Math.round(min * unit));
          figure.dataset.xMax = String(Math.round(max * unit));
        },
      ],
    };
    const plot = new uPlot(opts, plotData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [series, xLabel, time, height]);
  return (
    <figure className="chart-figure" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div
        ref={box}
        className="chart"
        role="img"
        aria-label={`${title}: line chart of ${series.map((s) => s.label).join(", ")}`}
      />
      <div className="sr-only">
        <table>
          <caption>{title} data</caption>
          <thead>
            <tr>
              <th scope="col">Series</th>
              <th scope="col">{xLabel}</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {series.flatMap((s) =>
              s.points.slice(0, 200).map(([x, y]) => (
                <tr key={`${s.label}-${x}`}>
                  <td>{s.label}</td>
                  <td>{time ? new Date(x).toISOString() : x}</td>
                  <td>{y ?? "—"}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
