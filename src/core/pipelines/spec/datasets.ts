/**
 * `datasets:` — names for data the project uses. The Data area owns versions and profiles; the spec
 * only says where a dataset's files come from so `dataset://name@…` inputs can resolve.
 */
import { z } from "zod";

export const datasetSpecSchema = z.strictObject({
  /** File or directory, relative to the folder holding tandem.yaml. */
  path: z.string().min(1).optional(),
  /** A URL the Data area imports from (http(s) or s3). */
  url: z.string().min(1).optional(),
  description: z.string().optional(),
  /** Column roles for profiles and monitors. */
  schema: z.record(z.string(), z.unknown()).optional(),
});

export type DatasetSpec = z.infer<typeof datasetSpecSchema>;
