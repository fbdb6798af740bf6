/**
 * A table in its own focusable scroll region: wide tables scroll inside the page at 375 px instead of
 * making the whole page scroll sideways, and keyboard users can scroll them (axe: scrollable-region-focusable).
 */
import type { ReactNode } from "react";

export interface Column<T> {
  key: string;
  header: ReactNode;
  cell(row: T): ReactNode;
  /** Right-align numbers. */
  numeric?: boolean;
}

export function DataTable<T>({
  caption,
  columns,
  rows,
  rowKey,
  testId,
  empty = "None.",
}: {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey(row: T): string;
  testId?: string;
  /** Said under the headers when there are no rows (outside the table, so row counts stay honest). */
  empty?: string;
}) {
  return (
    <>
      <div className="table-wrap" role="region" aria-label={caption} tabIndex={0}>
        <table data-testid={testId}>
          <caption className="sr-only">{caption}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.key} scope="col" className={c.numeric ? "num" : undefined}>
                  {c.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={rowKey(row)} data-key={rowKey(row)}>
                {columns.map((c) => (
                  <td key={c.key} className={c.numeric ? "num" : undefined} data-col={c.key}>
                    {c.cell(row)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 && <p className="muted small empty">{empty}</p>}
    </>
  );
}
