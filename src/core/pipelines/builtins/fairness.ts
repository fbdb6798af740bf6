/**
 * `tandem/fairness`: Fairlearn's group metrics of a model's predictions by one sensitive attribute
 * (selection_rate, demographic_parity_difference/ratio, equalized_odds_difference,
 * equal_opportunity_difference, per-group accuracy and selection rate), logged into the step's run
 * (as `<metric>.<attribute>`) and recorded in the registry for `fairness:` policy checks. The
 * four-fifths rule is reported as a heuristic (`four_fifths.<attribute>` 1/0), not a legal verdict.
 */
import { z } from "zod";
import { fairnessReport, selectionRate } from "../../evaluation/index.js";
import type { FairnessResult } from "../../registry/model.js";
import { defineBuiltin } from "./contract.js";
import { dataRefOf, modelArg, scoreArg } from "./model-args.js";
import { fileField, modelOrFileField } from "./references.js";

const finite = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => Number.isFinite(v)));

export const fairnessBuiltin = defineBuiltin({
  name: "fairness",
  description: "Fairness metrics by a sensitive attribute, recorded for policies.",
  with: z.strictObject({
    model: z.string().min(1),
    data: z.string().min(1),
    target: z.string().min(1),
    attribute: z.string().min(1),
    data_ref: z.string().optional(),
    /** The favourable prediction (default: the classifier's second class, e.g. 1). */
    pos_label: z.union([z.string(), z.number()]).optional(),
    four_fifths: z.number().min(0).max(1).default(0.8),
    features: z.array(z.string()).optional(),
  }),
  references: (w) => [...modelOrFileField(w, "model"), ...fileField(w, "data")],
  async run(ctx) {
    const w = ctx.with;
    const dataset = w.data_ref ?? (await dataRefOf(ctx, w.data));
    const model = await modelArg(ctx, w.model);
    const s = await scoreArg(model, {
      data: w.data,
      target: w.target,
      features: w.features,
      extraColumns: [w.attribute],
    });
    if (s.task !== "classification") throw new Error(`${model.label}: fairness metrics need a classifier`);
    const pos = w.pos_label !== undefined ? String(w.pos_label) : (s.posLabel ?? "1");
    const report = fairnessReport(s.yTrue, s.yPred, s.extra[w.attribute]!, {
      posLabel: pos,
      fourFifthsThreshold: w.four_fifths,
    });
    const result: FairnessResult = {
      metrics: finite({
        selection_rate: selectionRate(s.yPred, pos),
        demographic_parity_difference: report.demographicParityDifference,
        demographic_parity_ratio: report.demographicParityRatio,
        equalized_odds_difference: report.equalizedOddsDifference,
        equal_opportunity_difference: report.equalOpportunityDifference,
      }),
      byGroup: Object.fromEntries(
        report.groups.map((g) => [
          g.group,
          finite({
            count: g.count,
            selection_rate: g.selectionRate,
            accuracy: g.accuracy,
            true_positive_rate: g.truePositiveRate,
            false_positive_rate: g.falsePositiveRate,
          }),
        ]),
      ),
    };
    await model.record({ dataset, metrics: {}, fairness: { [w.attribute]: result } });
    for (const [k, v] of Object.entries(result.metrics)) ctx.log(`${k} by ${w.attribute}: ${v.toPrecision(4)}`);
    ctx.log(
      `four-fifths heuristic (ratio >= ${w.four_fifths}): ${report.passesFourFifths ? "passes" : "does not pass"} — a screening signal, not a legal verdict`,
    );
    const metrics = Object.fromEntries(Object.entries(result.metrics).map(([k, v]) => [`${k}.${w.attribute}`, v]));
    metrics[`four_fifths.${w.attribute}`] = report.passesFourFifths ? 1 : 0;
    return { metrics };
  },
});
