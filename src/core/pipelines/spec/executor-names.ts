/**
 * The executor names alone, without zod: the configuration (read by every CLI command, `--help`
 * included) checks TANDEM_EXECUTOR against them, and the spec schema in executors.ts uses them too.
 */
export const EXECUTOR_NAMES = ["local", "slurm", "kubernetes"] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];
