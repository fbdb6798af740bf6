// A tiny prediction service: POST /predict {"x": [a, b]} → {"label": 0|1, "p": probability}.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";

export function predict(model, x) {
  const z = model.bias + model.weights.reduce((s, w, i) => s + w * x[i], 0);
  const p = 1 / (1 + Math.exp(-z));
  return { label: p >= 0.5 ? 1 : 0, p };
}

export function handler(model) {
  return (req, res) => {
    if (req.method !== "POST" || req.url !== "/predict") {
      res.writeHead(404).end();
      return;
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      try {
        const { x } = JSON.parse(body);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(predict(model, x)));
      } catch {
        res.writeHead(400).end();
      }
    });
  };
}

if (process.argv[1] && process.argv[1].endsWith("server.js") && process.env.MODEL) {
  const model = JSON.parse(readFileSync(process.env.MODEL, "utf8"));
  createServer(handler(model)).listen(Number(process.env.PORT ?? 8080));
}
