/** Output helpers: machine output is JSON with snake_case keys on stdout; people get tables. */

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    // Trailing zeros go from the decimals only: not from 123457 (123456.7) nor from an exponent (1e-50).
    const [digits, exponent] = value.toPrecision(6).split("e") as [string, string | undefined];
    const trimmed = digits.includes(".") ? digits.replace(/\.?0+$/, "") : digits;
    return exponent ? `${trimmed}e${exponent}` : trimmed;
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A plain aligned table; `columns` picks and orders the keys. */
export function formatTable(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const matrix = [columns.map((c) => c.toUpperCase()), ...rows.map((r) => columns.map((c) => cell(r[c])))];
  const widths = columns.map((_, i) => Math.max(...matrix.map((row) => row[i]!.length)));
  return matrix
    .map((row) => row.map((v, i) => (i === row.length - 1 ? v : v.padEnd(widths[i]!))).join("  "))
    .join("\n");
}

export function printTable(rows: Array<Record<string, unknown>>, columns: string[]): void {
  process.stdout.write(rows.length ? `${formatTable(rows, columns)}\n` : "(none)\n");
}

export function formatTime(ms: number | null | undefined): string {
  return ms
    ? new Date(ms)
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "Z")
    : "-";
}

/** Progress and status lines go to stderr, so stdout stays clean for --json and pipes. */
export function info(message: string): void {
  process.stderr.write(`${message}\n`);
}
