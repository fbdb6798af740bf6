/**
 * A request's outputs as numbers (see output-rows.mjs). Every number is what the codec's rules read
 * from the model's tensors (`Number(x)` of each element), so the rows are the same from the copy.
 */
export type OutputColumns =
  | {
      kind: "classes";
      rows: number;
      /** The signature's class labels (null: classes are their indices). */
      classLabels: ReadonlyArray<string | number> | null;
      /** Probabilities per row. */
      k: number;
      /** The label output's value per row (null: the label is the most probable class). */
      labels: Float64Array | null;
      /** rows × k, row-major (null: the model answers labels only). */
      probabilities: Float64Array | null;
    }
  | { kind: "values"; rows: number; values: Float64Array };

export declare function predictionRows(columns: OutputColumns): unknown[];
export declare function outputsJson(columns: OutputColumns): string;
export declare function putClass(map: Record<string, number>, name: string, p: number): void;
