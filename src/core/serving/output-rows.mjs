// A request's outputs in columns (numbers, as the model answered them) → one prediction object per
// row. The codec answers requests with these objects, and the prediction log's writer thread makes
// the log's JSON text from the same columns with the same function, so the log holds exactly
// JSON.stringify of what was answered without the event loop making that text (~30 µs of a 64-row
// request's main-thread time, a tenth of it, CPU profile under wrk, issue 18). Plain JavaScript: the
// writer's worker runs it as it is, from src/ and dist/ alike.

/**
 * One prediction per row, as codec.ts's rules make them:
 * - classes: `{label, probabilities: {class: p, …}}`, the label being the label output's value
 *   (its class name where the signature lists one at that index), else the most probable class;
 * - values: `{value}`.
 */
export function predictionRows(columns) {
  const { rows } = columns;
  const result = new Array(rows);
  if (columns.kind === "values") {
    for (let r = 0; r < rows; r++) result[r] = { value: columns.values[r] };
    return result;
  }
  const { classLabels: labels, k, labels: given, probabilities } = columns;
  for (let r = 0; r < rows; r++) {
    const answer = { label: null };
    if (probabilities) {
      const map = {};
      let best = 0;
      for (let c = 0; c < k; c++) {
        const p = probabilities[r * k + c];
        putClass(map, String(labels?.[c] ?? c), p);
        if (p > probabilities[r * k + best]) best = c;
      }
      answer.probabilities = map;
      answer.label = labels?.[best] ?? best;
    }
    if (given) {
      const index = given[r];
      answer.label = labels && index >= 0 && index < labels.length ? labels[index] : index;
    }
    result[r] = answer;
  }
  return result;
}

/**
 * `map[name] = p`, except for a class named `__proto__`: assigning that sets the map's prototype
 * (and a number is ignored), so the class vanished from the answer and the log. Its own property
 * is defined instead; every other name assigns as usual (a plain map stays fast for JSON).
 */
export function putClass(map, name, p) {
  if (name === "__proto__")
    Object.defineProperty(map, name, { value: p, enumerable: true, writable: true, configurable: true });
  else map[name] = p;
}

/** The predictions' JSON text, as the log keeps it (JSON.stringify of the answered objects). */
export function outputsJson(columns) {
  return JSON.stringify(predictionRows(columns));
}
