/**
 * The x-axis range of a line chart. uPlot pads a zero-width range by the value's order of magnitude,
 * so one point at a time of 2026 (1.8e9 s) drew an axis from 2027 to 2029 (issue 21). A chart
 * whose points share one x gets a window centred on it instead; otherwise the data's own span.
 */

/** Half the window around a lone time point: one hour either side, ms. */
export const LONE_TIME_HALF_WINDOW_MS = 60 * 60 * 1000;

/** [min, max] of the x axis, in the data's units (ms for time); null when there are no points. */
export function xRange(xs: readonly number[], time: boolean): [number, number] | null {
  const finite = xs.filter((x) => Number.isFinite(x));
  if (finite.length === 0) return null;
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  if (max > min) return [min, max];
  return time ? [min - LONE_TIME_HALF_WINDOW_MS, min + LONE_TIME_HALF_WINDOW_MS] : [min - 1, min + 1];
}
