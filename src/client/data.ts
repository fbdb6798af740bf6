/**
 * `tandem/data`: dataset profiles for code outside this repository (docs/guides/data.md, "From
 * code"): profile columns in memory, merge profiles of several windows, read statistics from them and
 * compare two with Evidently's rules. Pure functions: no store, no server.
 */
export { profileTable, mergeProfiles } from "../core/data/profile/builder.js";
export {
  cdf,
  columnOf,
  distribution,
  frequentValues,
  histogram,
  quantile,
  quantiles,
} from "../core/data/profile/accessors.js";
export { profileDrift } from "../core/data/profile/drift.js";
export type { ColumnProfile, Histogram, TableProfile } from "../core/data/profile/model.js";
