import { InvalidInputError } from "../../errors.js";

export interface TabularErrorDetails {
  file: string;
  /** 1-based data row (the header is not a row), when the fault is in one. */
  row?: number;
  /** 1-based line of the file, when the format has lines. */
  line?: number;
  column?: string;
}

/** A tabular file that cannot be read; the message names the file and, where known, the row and line. */
export class TabularFileError extends InvalidInputError {
  constructor(message: string, details: TabularErrorDetails) {
    const where = [
      details.row !== undefined ? `row ${details.row}` : "",
      details.line !== undefined ? `line ${details.line}` : "",
    ]
      .filter(Boolean)
      .join(", ");
    super(`${details.file}${where ? ` (${where})` : ""}: ${message}`, details);
  }
}

/** Turns an fs error into a readable one (ENOENT, EACCES, EISDIR, EIO …); anything else is re-thrown. */
export function fileReadError(error: unknown, file: string): never {
  const code = (error as { code?: string } | null)?.code;
  const why: Record<string, string> = {
    ENOENT: "no such file",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EISDIR: "is a directory, not a file",
    EIO: "input/output error while reading",
  };
  if (code && why[code]) throw new TabularFileError(`cannot be read: ${why[code]}`, { file });
  throw error;
}
