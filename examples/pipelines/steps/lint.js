// A deliberately small linter: every .js file must parse (node --check), and none may keep a
// `console.log` debugging line or a trailing space.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
let problems = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith(".js"))) {
  const path = join(dir, file);
  execFileSync(process.execPath, ["--check", path]);
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (/\s+$/.test(line)) {
        console.error(`${file}:${i + 1}: trailing whitespace`);
        problems++;
      }
      if (/console\.log\(/.test(line)) {
        console.error(`${file}:${i + 1}: console.log left in`);
        problems++;
      }
    });
}
console.log(problems ? `${problems} problems` : "lint: clean");
process.exit(problems ? 1 : 0);
