import { test } from "node:test";
import assert from "node:assert/strict";
import { predict } from "./server.js";

test("a positive score predicts 1", () => {
  assert.equal(predict({ bias: 0, weights: [1, 1] }, [2, 3]).label, 1);
});

test("a negative score predicts 0", () => {
  assert.equal(predict({ bias: -10, weights: [1, 1] }, [1, 1]).label, 0);
});
