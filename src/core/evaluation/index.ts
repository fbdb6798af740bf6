/**
 * Model evaluation shared by monitoring (performance once labels arrive) and the registry's
 * `tandem/evaluate` and `tandem/fairness` steps. Pure functions over arrays; no I/O.
 */
import { InvalidInputError } from "../errors.js";
import {
  accuracy,
  calibrationError,
  defaultPosLabel,
  labelsOf,
  logLoss,
  precisionRecallF1,
  rocAuc,
  type Average,
  type Label,
} from "./classification.js";

export * from "./classification.js";
export * from "./fairness.js";
export * from "./regression.js";

export interface ClassificationInput {
  yTrue: ArrayLike<Label>;
  yPred: ArrayLike<Label>;
  /** Positive-class probability per row (binary) — enables roc_auc, log_loss and calibration_error. */
  probability?: ArrayLike<number>;
  posLabel?: Label;
  average?: Average;
}

export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** null without probabilities or with more than two classes. */
  roc_auc: number | null;
  log_loss: number | null;
  calibration_error: number | null;
}

/** Every classification metric at once, named as on the wire (snake_case, as MLflow metrics). */
export function classificationMetrics(input: ClassificationInput): ClassificationMetrics {
  const { yTrue, yPred, probability } = input;
  const prf = precisionRecallF1(yTrue, yPred, { average: input.average, posLabel: input.posLabel });
  const binary = labelsOf(yTrue).length === 2;
  if (probability !== undefined && probability.length !== yTrue.length) {
    throw new InvalidInputError(`probabilities: ${probability.length} values for ${yTrue.length} rows`);
  }
  const withProba = probability !== undefined && binary;
  let classes: Label[] | undefined;
  let posLabel = input.posLabel;
  if (withProba) {
    // The probability is the positive class's, whichever label sorts last: order the classes to match.
    const labels = labelsOf(yTrue);
    posLabel ??= defaultPosLabel(labels);
    classes = [labels.find((l) => l !== posLabel)!, posLabel];
  }
  return {
    accuracy: accuracy(yTrue, yPred),
    precision: prf.precision,
    recall: prf.recall,
    f1: prf.f1,
    roc_auc: withProba ? rocAuc(yTrue, probability, posLabel) : null,
    log_loss: withProba ? logLoss(yTrue, probability, classes) : null,
    calibration_error: withProba ? calibrationError(yTrue, probability, { posLabel }) : null,
  };
}
