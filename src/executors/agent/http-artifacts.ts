/**
 * The artifact store as a remote step sees it: the server's API, with the run's token, under
 * `/api/v1/projects/P/pipeline-runs/R/blobs`. The server lets a run's token read only blobs of that
 * run's inputs and outputs, and write only while the run is active: a step never holds the store's
 * own credentials.
 *
 * The server may be restarting (a crash, an upgrade, a takeover by another replica) while the job
 * runs on: a request that cannot connect, or that a proxy answers 502/503/504, is tried again for
 * up to `retryMs` (a file upload is read again from its file), instead of failing a step whose
 * work is done. So is a 401 saying the run's token has expired: every server was down longer than
 * the token's window, and the one that takes the run over revives it (run-tokens.ts). A revoked
 * token (the run ended or was cancelled) fails at once.
 */
import { createHash } from "node:crypto";
import { createReadStream, ReadStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import type { ArtifactStore, BlobInfo } from "../../core/artifacts/ports.js";

/** A 401 for an expired token (not a revoked or unknown one); reads a clone, the response stays whole. */
async function tokenExpired(res: Response): Promise<boolean> {
  if (res.status !== 401) return false;
  const text = await res
    .clone()
    .text()
    .catch(() => "");
  return /has expired/.test(text);
}

export class HttpRunArtifactStore implements ArtifactStore {
  private readonly base: string;

  constructor(
    url: string,
    private readonly token: string,
    project: string,
    runId: string,
    /** (default 1 h: a server down that long still gets the step's outputs when it returns) */
    private readonly retryMs = 60 * 60_000,
  ) {
    this.base = `${url.replace(/\/+$/, "")}/api/v1/projects/${encodeURIComponent(project)}/pipeline-runs/${encodeURIComponent(runId)}/blobs`;
  }

  private async failed(res: Response, what: string): Promise<Error> {
    const text = await res.text().catch(() => "");
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // not JSON
    }
    return new Error(`${what}: HTTP ${res.status}${message ? `: ${message}` : ""}`);
  }

  /** fetch, tried again while the server cannot be reached; `body()` makes each try's body. */
  private async request(
    url: string,
    init: RequestInit,
    body?: (tryNo: number) => RequestInit["body"] | null,
  ): Promise<Response> {
    const until = Date.now() + this.retryMs;
    for (let tryNo = 0, waitMs = 250; ; tryNo++, waitMs = Math.min(waitMs * 2, 5000)) {
      const made = body?.(tryNo);
      if (made === null) throw new Error("the server could not be reached, and the upload cannot be read again");
      let res: Response | null = null;
      let error: Error | null = null;
      try {
        res = await fetch(url, { ...init, ...(made !== undefined ? { body: made } : {}) });
      } catch (e) {
        error = e as Error;
      }
      const retryable = error !== null || [502, 503, 504].includes(res!.status) || (await tokenExpired(res!));
      if (!retryable) return res!;
      if (Date.now() + waitMs > until) {
        if (res) return res;
        const cause = (error as Error & { cause?: { code?: string } }).cause?.code ?? error!.message;
        throw new Error(
          `the server at ${url.split("/api/")[0]} could not be reached for ${Math.round(this.retryMs / 1000)} s (${cause})`,
        );
      }
      await res?.body?.cancel().catch(() => undefined);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  async putBlob(data: Readable | Uint8Array | string): Promise<BlobInfo> {
    const bytes = typeof data === "string" || data instanceof Uint8Array ? Buffer.from(data) : null;
    const body = (tryNo: number): RequestInit["body"] | null => {
      if (bytes) return bytes;
      if (tryNo === 0) return Readable.toWeb(data as Readable) as ReadableStream;
      // A file is read again from its path; another stream cannot be.
      if (!(data instanceof ReadStream)) return null;
      data.destroy();
      return Readable.toWeb(createReadStream(data.path)) as ReadableStream;
    };
    const res = await this.request(
      this.base,
      {
        method: "POST",
        headers: { authorization: `Bearer ${this.token}`, "content-type": "application/octet-stream" },
        duplex: "half",
      } as RequestInit,
      body,
    );
    if (!res.ok) throw await this.failed(res, "uploading an output");
    return (await res.json()) as BlobInfo;
  }

  async getBlob(sha256: string): Promise<Readable> {
    const res = await this.request(`${this.base}/${sha256}`, { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok || !res.body) throw await this.failed(res, `reading input blob ${sha256.slice(0, 12)}`);
    // Verified as it streams, like the stores' own getBlob: a wrong byte fails the input.
    const hash = createHash("sha256");
    const verify = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
      flush(done) {
        const got = hash.digest("hex");
        done(got === sha256 ? null : new Error(`blob ${sha256.slice(0, 12)} arrived as ${got.slice(0, 12)}`));
      },
    });
    return Readable.fromWeb(res.body as import("node:stream/web").ReadableStream).pipe(verify);
  }

  statBlob(): Promise<BlobInfo | null> {
    return Promise.reject(new Error("a remote step cannot stat blobs"));
  }

  missingBlobs(): Promise<string[]> {
    return Promise.reject(new Error("a remote step cannot list blobs"));
  }

  // eslint-disable-next-line require-yield -- never lists: a step sees only its own run's blobs
  async *listBlobs(): AsyncIterable<BlobInfo> {
    throw new Error("a remote step cannot list blobs");
  }

  deleteBlob(): Promise<void> {
    return Promise.reject(new Error("a remote step cannot delete blobs"));
  }
}
