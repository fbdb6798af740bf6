/** Formatting shared by every page, so the same number reads the same everywhere. */

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  const d = new Date(ms);
  return d.toISOString().replace("T", " ").slice(0, 19) + "Z";
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * Numbers as the API gives them, trimmed to 6 significant digits; the e2e tests compare page text with
 * this same function applied to API values.
 */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

/**
 * A profile statistic of a column of this kind: a datetime column's mean, min, max and quantiles
 * arrive in epoch milliseconds and read as the ISO dates they are (as `tandem data show` prints them).
 */
export function formatStat(value: number | string | null | undefined, kind: string): string {
  if (typeof value === "string") return value;
  if (kind === "datetime" && value !== null && value !== undefined && Number.isFinite(value))
    return new Date(value).toISOString().replace(/\.\d+Z$/, "Z");
  return formatNumber(value);
}

/** A spread of a column (its std): for datetimes (milliseconds) a duration, in days past two days. */
export function formatSpread(value: number | null | undefined, kind: string): string {
  if (kind !== "datetime" || value === null || value === undefined || !Number.isFinite(value))
    return formatNumber(value);
  const days = value / 86_400_000;
  return days >= 2 ? `${formatNumber(days)} d` : formatDuration(value);
}

export function formatPercent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "—";
  return `${formatNumber(fraction * 100)}%`;
}

export function shortId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}
