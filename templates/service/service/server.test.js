import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { greet, handler } from "./server.js";

test("greets by name, and the world by default", () => {
  assert.equal(greet("Ada"), "hello, Ada");
  assert.equal(greet(""), "hello, world");
  assert.throws(() => greet("x".repeat(101)), /at most 100/);
});

test("serves /hello and /health over HTTP", async () => {
  const server = createServer(handler).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    assert.deepEqual(await (await fetch(`${base}/hello?name=Grace`)).json(), { message: "hello, Grace" });
    assert.equal((await fetch(`${base}/health`)).status, 200);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    server.close();
  }
});
