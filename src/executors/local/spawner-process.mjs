// The step spawner: a small long-lived Node process that starts local steps for the process that
// drives them (spawner.ts says why). Plain JavaScript with nothing but Node's own modules, so it
// starts in tens of milliseconds, keeps a small heap, and runs the same from src/ (tests, tsx) and
// dist/ (copied as an asset).
//
// Messages from the driver, over the IPC channel:
//   { t: "spawn", id, file, args, cwd, env }  start a step (in a process group of its own); with
//                                             gate: N, args[N] becomes "3", a descriptor the step
//                                             reads nothing from until "go" (bwrap's --block-fd)
//   { t: "go", id }  /  { t: "drop", id }     let a held step start / kill its group instead
// Messages to the driver:
//   { t: "started", id, pid, startTime }      the step's pid and its start time (process-identity)
//   { t: "out", id, stream, text }            a piece of its stdout or stderr, UTF-8 decoded
//   { t: "end", id, code, signal }            it exited and both its pipes are closed
//   { t: "error", id, message }               it could not be started
// When the driver goes away (its channel closes), the spawner exits: bubblewrap's --die-with-parent
// then ends every sandboxed step, as it did when the driver was their parent.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";

/** Messages sent and not yet written to the channel; above HIGH, steps' pipes pause until LOW. */
const HIGH = 256;
const LOW = 32;
let unsent = 0;
const paused = new Set();

function send(message) {
  unsent++;
  process.send(message, undefined, undefined, () => {
    unsent--;
    if (unsent <= LOW && paused.size) {
      for (const stream of paused) stream.resume();
      paused.clear();
    }
  });
}

let bootId;
/** `<boot id>:<start time>`, as process-identity.ts computes it (read here, off the driver's loop). */
function processIdentity(pid) {
  try {
    bootId ??= readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return startTime && /^\d+$/.test(startTime) ? `${bootId}:${startTime}` : null;
  } catch {
    return null;
  }
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Held steps' children, until they are let go or dropped. */
const held = new Map();

function start({ id, file, args, cwd, env, gate }) {
  let child;
  const gated = Number.isInteger(gate) && gate >= 0 && gate < args.length;
  if (gated) args = args.map((a, i) => (i === gate ? "3" : a));
  try {
    const stdio = ["ignore", "pipe", "pipe", ...(gated ? ["pipe"] : [])];
    child = spawn(file, args, { cwd, env, detached: true, stdio });
  } catch (error) {
    send({ t: "error", id, message: error.message });
    return;
  }
  let ended = false;
  child.on("error", (error) => {
    if (ended) return;
    ended = true;
    send({ t: "error", id, message: error.message });
  });
  if (child.pid === undefined) return; // the error event follows
  if (gated) {
    child.stdio[3].on("error", () => undefined); // the sandbox gone: its end is reported as any other
    held.set(id, child);
  }
  send({ t: "started", id, pid: child.pid, startTime: processIdentity(child.pid) });
  for (const [stream, name] of [
    [child.stdout, "stdout"],
    [child.stderr, "stderr"],
  ]) {
    const decoder = new StringDecoder("utf8");
    stream.on("data", (chunk) => {
      const text = decoder.write(chunk);
      if (text) send({ t: "out", id, stream: name, text });
      if (unsent > HIGH && !paused.has(stream)) {
        paused.add(stream);
        stream.pause();
      }
    });
    stream.on("end", () => {
      const rest = decoder.end();
      if (rest) send({ t: "out", id, stream: name, text: rest });
    });
  }
  let exit = { code: null, signal: null };
  child.on("exit", (code, signal) => {
    exit = { code, signal };
    // The shell is gone; whatever it left running in its group goes with it.
    killGroup(child.pid, "SIGKILL");
  });
  child.on("close", () => {
    held.delete(id);
    if (ended) return;
    ended = true;
    send({ t: "end", id, code: exit.code, signal: exit.signal });
  });
}

function control({ id, t }) {
  const child = held.get(id);
  if (!child) return; // ended already, or never held
  held.delete(id);
  if (t === "drop") killGroup(child.pid, "SIGKILL");
  if (t === "go") child.stdio[3].end("g");
  else child.stdio[3].destroy();
}

process.on("message", (message) => {
  if (message && message.t === "spawn") start(message);
  else if (message && (message.t === "go" || message.t === "drop")) control(message);
});
process.on("disconnect", () => process.exit(0));
