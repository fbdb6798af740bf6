/**
 * A binary classifier's ROC and precision–recall curves and confusion matrix, as tandem/evaluate
 * stored them on an evaluation; with two versions, both curves overlay on the same axes.
 */
import type { CurvesWire, EvaluationWire } from "../api/registry";
import { CurveChart, type Curve } from "../components/curve-chart";
import { formatNumber } from "../lib/format";

const zip = (xs: number[], ys: number[]): Array<[number, number]> => xs.map((x, i) => [x, ys[i]!]);

function ConfusionMatrix({ version, curves }: { version: number; curves: CurvesWire }) {
  const [[tn, fp], [fn, tp]] = curves.confusion.matrix as [[number, number], [number, number]];
  return (
    <table className="confusion" data-testid={`confusion-v${version}`}>
      <caption>
        v{version}: confusion matrix at threshold {formatNumber(curves.confusion.threshold)} (positive:{" "}
        {curves.positive_label})
      </caption>
      <thead>
        <tr>
          <td />
          <th scope="col">Predicted negative</th>
          <th scope="col">Predicted positive</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <th scope="row">Actual negative</th>
          <td data-cell="tn">{tn}</td>
          <td data-cell="fp">{fp}</td>
        </tr>
        <tr>
          <th scope="row">Actual positive</th>
          <td data-cell="fn">{fn}</td>
          <td data-cell="tp">{tp}</td>
        </tr>
      </tbody>
    </table>
  );
}

/** The curves of one or more evaluations (each with `curves`), overlaid in the order given. */
export function ClassifierCurves({ evaluations }: { evaluations: EvaluationWire[] }) {
  const withCurves = evaluations.filter(
    (e, i): e is EvaluationWire & { curves: CurvesWire } =>
      e.curves !== null && evaluations.findIndex((o) => o.version === e.version) === i,
  );
  if (withCurves.length === 0) return null;
  const roc: Curve[] = withCurves.map((e) => ({
    label: `v${e.version} (AUC ${formatNumber(e.curves.roc_auc)})`,
    points: zip(e.curves.roc.fpr, e.curves.roc.tpr),
  }));
  const pr: Curve[] = withCurves.map((e) => ({
    label: `v${e.version} (AP ${formatNumber(e.curves.average_precision)})`,
    points: zip(e.curves.pr.recall, e.curves.pr.precision),
  }));
  return (
    <div data-testid="classifier-curves">
      <div className="curve-row">
        <CurveChart
          title="ROC curve"
          curves={roc}
          xLabel="False positive rate"
          yLabel="True positive rate"
          diagonal
          testId="roc-chart"
        />
        <CurveChart title="Precision–recall curve" curves={pr} xLabel="Recall" yLabel="Precision" testId="pr-chart" />
      </div>
      <div className="curve-row">
        {withCurves.map((e) => (
          <ConfusionMatrix key={e.version} version={e.version} curves={e.curves} />
        ))}
      </div>
    </div>
  );
}
