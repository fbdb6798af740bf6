/**
 * A stand-in Kubernetes API server for the executor's contract tests (no cluster runs here). It
 * serves, over HTTP, the subset KubernetesExecutor uses: create/list/watch/delete of Jobs, create/
 * delete of Secrets, list of Pods by label and a pod's log (followed). It validates every object it
 * is sent against Kubernetes' published schemas (answering 422 like a real server), records which
 * verbs were used, and drives each Job through its phases by a scenario the test picks:
 * success with a log, a failing exit code, OOMKilled, ImagePullBackOff, unschedulable, a deadline,
 * or running until deleted.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { kubernetesProblems } from "./kubernetes-schema.js";

export type Scenario =
  | { kind: "succeed"; log: string[] }
  | { kind: "fail"; exitCode: number; log: string[] }
  | { kind: "oom" }
  | { kind: "image-pull" }
  | { kind: "unschedulable"; message: string }
  | { kind: "deadline" }
  | { kind: "run-forever"; log: string[] };

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The image id a kubelet reports for `image` once it pulled it (status.containerStatuses[].imageID):
 * the repository with the digest the tag resolved to, as containerd writes it. The stand-in has no
 * registry, so the digest is made up from the reference, the same every time.
 */
export function standInImageId(image: string): string {
  const repository = image.replace(/@sha256:[0-9a-f]{64}$/, "").replace(/:[^:/]+$/, "");
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(image)?.[1];
  return `${repository}@${digest ?? `sha256:${createHash("sha256").update(image).digest("hex")}`}`;
}

/** A container status as the kubelet fills it (the fields V1ContainerStatus requires, and its state). */
function containerStatus(job: Obj, ready: boolean, state: Obj): Obj {
  const image = String(job.spec.template.spec.containers[0].image);
  return { name: "step", image, imageID: standInImageId(image), ready, restartCount: 0, state };
}

interface PodState {
  pod: Obj;
  log: string;
  ended: boolean;
  followers: Set<ServerResponse>;
  /** Called once after the next list of pods showed this pod (a state the executor must see). */
  onListed?: () => void;
}

export class KubernetesStandIn {
  readonly jobs = new Map<string, Obj>();
  readonly secrets = new Map<string, Obj>();
  readonly pods = new Map<string, PodState>();
  /** `verb resource`, e.g. `create jobs`, for each request (the RBAC check reads it). */
  readonly verbs = new Set<string>();
  /** Every object sent that a real API server would have refused, with its problems. */
  readonly rejected: string[] = [];
  readonly deletions: Array<{ name: string; propagationPolicy: string | null }> = [];
  /** Secrets as they were when their Job was created (the test reads what the agent would). */
  readonly secretsSeen = new Map<string, Obj>();
  /** How many times Jobs were listed (a watch that re-lists lists again). */
  jobLists = 0;
  scenario: (job: Obj) => Scenario = () => ({ kind: "succeed", log: [] });
  /** Milliseconds between phases (default 30). */
  stepMs = 30;
  private resourceVersion = 1;
  private watchers = new Set<{ res: ServerResponse; ns: string; selector: Record<string, string> }>();
  private server: Server;
  url = "";

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    for (const p of this.pods.values()) for (const f of p.followers) f.end();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Ends every open watch, as an API server does every few minutes: the client must re-list. */
  dropWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  private bump(o: Obj): Obj {
    o.metadata.resourceVersion = String(++this.resourceVersion);
    return o;
  }

  /**
   * Every Job event, for watches that start from a resourceVersion: as a real API server does, a
   * watch replays what happened after the version its list returned (else an event between the
   * list and the watch's connection is lost, and a client waits forever under load).
   */
  private readonly events: Array<{ rv: number; type: string; job: Obj }> = [];

  private notify(type: string, job: Obj): void {
    this.events.push({
      rv: Number(job.metadata.resourceVersion ?? this.resourceVersion),
      type,
      job: structuredClone(job),
    });
    for (const w of this.watchers)
      if (w.ns === job.metadata.namespace && matches(job, w.selector))
        w.res.write(`${JSON.stringify({ type, object: job })}\n`);
  }

  private updateJob(job: Obj, status: Obj): void {
    if (!this.jobs.has(key(job.metadata.namespace, job.metadata.name))) return;
    job.status = { ...job.status, ...status };
    this.notify("MODIFIED", this.bump(job));
  }

  private appendLog(p: PodState, text: string): void {
    p.log += text;
    for (const f of p.followers) f.write(text);
  }

  private endPod(p: PodState, job: Obj, containerState: Obj, phase: string): void {
    p.pod.status.phase = phase;
    p.pod.status.containerStatuses = [containerStatus(job, false, containerState)];
    p.ended = true;
    for (const f of p.followers) f.end();
    p.followers.clear();
  }

  /** Runs a created Job's scenario: its pod, its log, its end. */
  private drive(job: Obj): void {
    const ns = job.metadata.namespace;
    const podName = `${job.metadata.name}-${Math.random().toString(36).slice(2, 7)}`;
    const labels = { ...job.spec.template.metadata.labels, "job-name": job.metadata.name };
    const p: PodState = {
      pod: { metadata: { name: podName, namespace: ns, labels }, status: { phase: "Pending", conditions: [] } },
      log: "",
      ended: false,
      followers: new Set(),
    };
    this.pods.set(key(ns, podName), p);
    const scenario = this.scenario(job);
    const later = (n: number, fn: () => void) => setTimeout(fn, this.stepMs * n);
    const running = () => {
      p.pod.status.phase = "Running";
      p.pod.status.conditions = [{ type: "PodScheduled", status: "True" }];
      p.pod.status.containerStatuses = [containerStatus(job, true, { running: { startedAt: "now" } })];
      this.updateJob(job, { active: 1 });
    };
    const logLines = (lines: string[]) => this.appendLog(p, lines.map((l) => `${l}\n`).join(""));
    switch (scenario.kind) {
      case "succeed":
      case "fail":
        later(1, running);
        later(3, () => logLines(scenario.log));
        later(5, () => {
          const exitCode = scenario.kind === "succeed" ? 0 : scenario.exitCode;
          this.endPod(
            p,
            job,
            { terminated: { exitCode, reason: exitCode ? "Error" : "Completed" } },
            exitCode ? "Failed" : "Succeeded",
          );
          this.updateJob(
            job,
            exitCode
              ? {
                  active: 0,
                  failed: 1,
                  conditions: [
                    {
                      type: "Failed",
                      status: "True",
                      reason: "BackoffLimitExceeded",
                      message: "Job has reached the specified backoff limit",
                    },
                  ],
                }
              : { active: 0, succeeded: 1, conditions: [{ type: "Complete", status: "True" }] },
          );
        });
        return;
      case "oom":
        later(1, running);
        later(3, () => {
          this.endPod(p, job, { terminated: { exitCode: 137, reason: "OOMKilled" } }, "Failed");
          this.updateJob(job, {
            active: 0,
            failed: 1,
            conditions: [
              {
                type: "Failed",
                status: "True",
                reason: "BackoffLimitExceeded",
                message: "Job has reached the specified backoff limit",
              },
            ],
          });
        });
        return;
      case "image-pull": {
        const image = job.spec.template.spec.containers[0].image;
        const waiting = (reason: string) => () => {
          p.pod.status.conditions = [{ type: "PodScheduled", status: "True" }];
          p.pod.status.containerStatuses = [
            {
              name: "step",
              ready: false,
              state: { waiting: { reason, message: `Back-off pulling image "${image}"` } },
            },
          ];
        };
        // The back-off comes once the executor has seen ErrImagePull (under load a fixed delay may be
        // shorter than its poll).
        later(1, () => {
          waiting("ErrImagePull")();
          p.onListed = () => later(2, waiting("ImagePullBackOff"));
        });
        return;
      }
      case "unschedulable":
        later(1, () => {
          p.pod.status.conditions = [
            { type: "PodScheduled", status: "False", reason: "Unschedulable", message: scenario.message },
          ];
        });
        return;
      case "deadline":
        later(1, running);
        later(3, () => {
          this.endPod(p, job, { terminated: { exitCode: 143, reason: "Error" } }, "Failed");
          this.updateJob(job, {
            active: 0,
            failed: 1,
            conditions: [
              {
                type: "Failed",
                status: "True",
                reason: "DeadlineExceeded",
                message: "Job was active longer than specified deadline",
              },
            ],
          });
        });
        return;
      case "run-forever":
        later(1, running);
        later(3, () => logLines(scenario.log));
        return;
    }
  }

  /** Answers 422 (and records why) when a real API server would refuse `object`. */
  private async invalid(
    object: Obj,
    status: (code: number, reason: string, message: string) => void,
  ): Promise<boolean> {
    const problems = await kubernetesProblems(object);
    if (!problems.length) return false;
    this.rejected.push(...problems);
    status(422, "Invalid", problems.join("; "));
    return true;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const q = url.searchParams;
    const body = await readBody(req);
    const send = (status: number, object: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(object));
    };
    const status = (code: number, reason: string, message: string) =>
      send(code, { apiVersion: "v1", kind: "Status", status: "Failure", reason, message, code });
    let m: RegExpExecArray | null;
    if ((m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/.exec(url.pathname))) {
      const [, ns, name] = m as unknown as [string, string, string | undefined];
      if (req.method === "POST") {
        this.verbs.add("create jobs");
        const job = JSON.parse(body) as Obj;
        if (await this.invalid(job, status)) return;
        const k = key(ns, job.metadata.name);
        if (this.jobs.has(k)) return status(409, "AlreadyExists", `jobs.batch "${job.metadata.name}" already exists`);
        job.metadata.namespace = ns;
        job.metadata.uid = `uid-${this.resourceVersion}`;
        job.status = {};
        this.jobs.set(k, this.bump(job));
        const secret = this.secrets.get(key(ns, job.spec.template.spec.volumes?.[0]?.secret?.secretName ?? ""));
        if (secret) this.secretsSeen.set(job.metadata.name, secret);
        this.notify("ADDED", job);
        this.drive(job);
        return send(201, job);
      }
      if (req.method === "GET" && !name) {
        const selector = parseSelector(q.get("labelSelector"));
        if (q.get("watch") === "true") {
          this.verbs.add("watch jobs");
          res.writeHead(200, { "content-type": "application/json" });
          const watcher = { res, ns, selector };
          const since = Number(q.get("resourceVersion") ?? Infinity);
          for (const e of this.events)
            if (e.rv > since && e.job.metadata.namespace === ns && matches(e.job, selector))
              res.write(`${JSON.stringify({ type: e.type, object: e.job })}\n`);
          this.watchers.add(watcher);
          req.on("close", () => this.watchers.delete(watcher));
          return;
        }
        this.verbs.add("list jobs");
        this.jobLists++;
        const items = [...this.jobs.values()].filter((j) => j.metadata.namespace === ns && matches(j, selector));
        return send(200, {
          apiVersion: "batch/v1",
          kind: "JobList",
          metadata: { resourceVersion: String(this.resourceVersion) },
          items,
        });
      }
      if (req.method === "GET" && name) {
        this.verbs.add("get jobs");
        const job = this.jobs.get(key(ns, name));
        return job ? send(200, job) : status(404, "NotFound", `jobs.batch "${name}" not found`);
      }
      if (req.method === "DELETE" && name) {
        this.verbs.add("delete jobs");
        const options = body ? (JSON.parse(body) as Obj) : {};
        this.deletions.push({
          name,
          propagationPolicy: q.get("propagationPolicy") ?? options.propagationPolicy ?? null,
        });
        const job = this.jobs.get(key(ns, name));
        if (!job) return status(404, "NotFound", `jobs.batch "${name}" not found`);
        this.jobs.delete(key(ns, name));
        for (const [k, p] of this.pods)
          if (p.pod.metadata.labels["job-name"] === name) {
            this.endPod(p, job, { terminated: { exitCode: 143, reason: "Error" } }, "Failed");
            this.pods.delete(k);
          }
        this.notify("DELETED", this.bump(job));
        return send(200, { kind: "Status", status: "Success" });
      }
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(url.pathname))) {
      const [, ns, name] = m as unknown as [string, string, string | undefined];
      if (req.method === "POST") {
        this.verbs.add("create secrets");
        const secret = JSON.parse(body) as Obj;
        if (await this.invalid(secret, status)) return;
        const k = key(ns, secret.metadata.name);
        if (this.secrets.has(k))
          return status(409, "AlreadyExists", `secrets "${secret.metadata.name}" already exists`);
        this.secrets.set(k, secret);
        return send(201, secret);
      }
      if (req.method === "DELETE" && name) {
        this.verbs.add("delete secrets");
        const existed = this.secrets.delete(key(ns, name));
        return existed
          ? send(200, { kind: "Status", status: "Success" })
          : status(404, "NotFound", `secrets "${name}" not found`);
      }
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname)) && req.method === "GET") {
      this.verbs.add("list pods");
      const selector = parseSelector(q.get("labelSelector"));
      const items = [...this.pods.values()]
        .map((p) => p.pod)
        .filter((p) => p.metadata.namespace === m![1] && matches(p, selector));
      for (const p of this.pods.values())
        if (p.onListed && items.includes(p.pod)) {
          const listed = p.onListed;
          p.onListed = undefined;
          listed();
        }
      return send(200, {
        apiVersion: "v1",
        kind: "PodList",
        metadata: { resourceVersion: String(this.resourceVersion) },
        items,
      });
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(url.pathname)) && req.method === "GET") {
      this.verbs.add("get pods/log");
      const p = this.pods.get(key(m[1]!, m[2]!));
      if (!p) return status(404, "NotFound", `pods "${m[2]}" not found`);
      res.writeHead(200, { "content-type": "text/plain" });
      res.write(p.log);
      if (p.ended || q.get("follow") !== "true") return void res.end();
      p.followers.add(res);
      req.on("close", () => p.followers.delete(res));
      return;
    }
    status(404, "NotFound", `the stand-in does not serve ${req.method} ${url.pathname}`);
  }
}

function key(ns: string, name: string): string {
  return `${ns}/${name}`;
}

function parseSelector(text: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? "").split(",").filter(Boolean)) {
    const [k, v] = part.split("=");
    out[k!] = v ?? "";
  }
  return out;
}

function matches(o: Obj, selector: Record<string, string>): boolean {
  const labels = (o.metadata?.labels ?? {}) as Record<string, string>;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => resolve(text));
  });
}
