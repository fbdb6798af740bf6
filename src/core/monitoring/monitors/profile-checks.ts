/**
 * Drift checks of long windows, from mergeable profiles: the stored profiles of earlier windows
 * merged with the profile of the newest rows, against the reference's profile — so a week or a
 * month of traffic is checked without rereading it. Each column carries its error bound against the
 * raw-row answer (see profile-drift.ts); performance, fairness, latency and error rate, which need
 * rows, are computed on the newest rows only and say so.
 */
import type { TableProfile } from "../../data/profile/model.js";
import { computeDriftFromProfiles, type ProfileDriftReport } from "../profile-drift.js";
import { driftDetails } from "./checks.js";
import type { CheckConfig, CheckResult, MonitorDefinition } from "./model.js";
import { driftFeatures, PREDICTION, TARGET } from "./window.js";

function details(report: ProfileDriftReport): Record<string, unknown> {
  const base = driftDetails(report);
  const columns = base.columns as Array<Record<string, unknown>>;
  return {
    ...base,
    computed_from: "profile",
    columns: columns.map((c, i) => ({ ...c, error_bound: report.columns[i]!.errorBound })),
  };
}

/** The drift checks a profile can answer; null for the others (run on rows instead). */
export function runProfileCheck(
  def: MonitorDefinition,
  check: CheckConfig,
  reference: TableProfile,
  current: TableProfile,
): CheckResult | null {
  const targetCol = def.roles.target ?? TARGET;
  const predictionCol = def.roles.prediction ?? PREDICTION;
  const refNames = new Set(reference.columns.map((c) => c.name));
  const curNames = new Set(current.columns.map((c) => c.name));
  switch (check.kind) {
    case "data_drift": {
      const features = driftFeatures(def.roles, refNames, (c) => curNames.has(c));
      const perColumn: Record<
        string,
        { test?: CheckConfig extends never ? never : (typeof check)["test"]; threshold?: number }
      > = { ...(check.perColumn ?? {}) };
      if (check.threshold !== undefined)
        for (const f of features) perColumn[f] = { threshold: check.threshold, ...perColumn[f] };
      const report = computeDriftFromProfiles(reference, current, {
        columns: features,
        test: check.test,
        perColumn,
        driftShare: check.driftShare,
      });
      const drifted = report.columns.filter((c) => c.drift).map((c) => c.name);
      return {
        check: check.kind,
        passed: !report.datasetDrift,
        summary: `${drifted.length} of ${report.columns.length} features drifted over ${report.currentRows} rows (from profiles)${drifted.length ? `: ${drifted.join(", ")}` : ""}`,
        details: details(report),
      };
    }
    case "target_drift":
    case "prediction_drift": {
      const cur = check.kind === "target_drift" ? TARGET : PREDICTION;
      const ref = check.kind === "target_drift" ? targetCol : refNames.has(predictionCol) ? predictionCol : targetCol;
      if (!refNames.has(ref) || !curNames.has(cur)) return null;
      // Compare the two columns under one name, as the profiles name them differently.
      const rename = (p: TableProfile, from: string): TableProfile => ({
        ...p,
        columns: p.columns.filter((c) => c.name === from).map((c) => ({ ...c, name: cur })),
      });
      const report = computeDriftFromProfiles(rename(reference, ref), rename(current, cur), {
        columns: [cur],
        test: check.test,
        perColumn: check.threshold !== undefined ? { [cur]: { threshold: check.threshold } } : undefined,
      });
      const col = report.columns[0];
      if (!col) return null;
      return {
        check: check.kind,
        passed: !col.drift,
        summary: `${cur}: ${col.test} ${col.statistic.toPrecision(4)}${col.pValue !== null ? ` (p=${col.pValue.toExponential(2)})` : ""} vs threshold ${col.threshold} (from profiles)`,
        details: details(report),
      };
    }
    default:
      return null;
  }
}
