/**
 * What DataService loads on first use (service.ts, `analysis`): profiling, validation, diffs, queries
 * and the tabular readers, which a data add of unchanged content and the other reads never call.
 */
export { countDuplicatesColumnar, DuplicateTally } from "./columnar/duplicates.js";
export { profileTabularFile } from "./columnar/profile-file.js";
export { diffVersions } from "./diff.js";
export { parseExpectations, validateProfile } from "./expectations.js";
export { mergeProfiles } from "./profile/builder.js";
export { queryFiles } from "./query.js";
export { openTable, tabularFormatOf } from "./readers/index.js";
