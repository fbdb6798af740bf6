/**
 * Multipart artifact upload through the server, as MLflow's client does it with
 * MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true (mlflow-artifacts/mpu/create|complete|abort): `create`
 * hands out one URL per part; the client PUTs each part there WITHOUT its token, reads the ETag, and
 * `complete` joins the parts into the artifact.
 *
 * Because a part URL is the only credential its PUT carries, each is signed (HMAC-SHA256 over upload
 * id, part number and expiry with a key derived from the deployment's secret key, which every server
 * shares), expires (default 1 h, like the presigned S3 part URLs MLflow hands out), and names one part
 * of one upload: a second PUT to the same URL is refused, and so is a URL whose signature, part or
 * upload does not match.
 *
 * Open uploads and their parts are rows in the metadata store (MultipartUploadStore), so behind
 * several servers `create` on one and the PUTs and `complete` on another work; a part's row is
 * inserted once, which keeps a URL single-use across servers. Parts are stored as blobs
 * (content-addressed; the ETag is the part's SHA-256) and joined by streaming them into the run's
 * artifact path.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Readable } from "node:stream";
import type { ArtifactStore } from "../artifacts/ports.js";
import { safeRelativePath } from "../artifacts/paths.js";
import { InvalidInputError, NotFoundError, UnauthenticatedError } from "../errors.js";

/** An open upload, as the store keeps it. */
export interface UploadRecord {
  id: string;
  actor: string;
  project: string;
  path: string;
  numParts: number;
  expiresAt: number;
}

/** Where open uploads live: the metadata store, shared by every server of a deployment. */
export interface MultipartUploadStore {
  insertUpload(upload: UploadRecord): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | null>;
  /** Inserts the part's row once: false when it already exists (the URL was used). */
  claimPart(uploadId: string, partNumber: number, at: number): Promise<boolean>;
  /** Records a claimed part's blob: false when the part (its upload) is gone. */
  storePart(uploadId: string, partNumber: number, sha256: string): Promise<boolean>;
  /** Frees a claimed part whose bytes never arrived whole, so its URL may be tried again. */
  releasePart(uploadId: string, partNumber: number): Promise<void>;
  parts(uploadId: string): Promise<Array<{ partNumber: number; sha256: string | null }>>;
  /** Deletes the upload and its parts: false when another call already did. */
  removeUpload(id: string): Promise<boolean>;
  /** Forgets uploads that expired before `cutoff`, and parts whose upload is gone. */
  removeExpired(cutoff: number): Promise<void>;
  /** Blobs of the parts of open uploads. */
  partBlobs(): Promise<Set<string>>;
}

export interface MultipartUploadsOptions {
  store: MultipartUploadStore;
  /**
   * Signs part URLs. Derived from the deployment's secret key (multipartUrlKey), so a URL one server
   * hands out verifies on every other.
   */
  key: Buffer;
  /** Where parts are kept until `complete` (as blobs). */
  artifacts: ArtifactStore;
  /** Writes the joined artifact (TrackingArtifacts.put: index, audit, run scoping). */
  put(actor: string, project: string, path: string, data: Readable): Promise<unknown>;
  /** How long a part URL is valid (default 1 h). An upload is forgotten one more period later. */
  urlTtlMs?: number;
  /** (default 10 000, S3's limit) */
  maxParts?: number;
  /** (default Date.now) */
  now?: () => number;
}

/** The part-URL signing key of a deployment: its own HMAC of the secret key, used for nothing else. */
export function multipartUrlKey(secretKey: Buffer): Buffer {
  return createHmac("sha256", secretKey).update("tandem mlflow multipart part url").digest();
}

export interface PartTicket {
  uploadId: string;
  partNumber: number;
  /** The signed token that goes into the part's URL. */
  token: string;
}

/** Who a verified part URL acts for, and what it may write. */
export interface PartClaim {
  uploadId: string;
  partNumber: number;
  actor: string;
  project: string;
}

const TOKEN = /^([0-9a-f]{32})\.(\d{1,5})\.(\d{13})\.([A-Za-z0-9_-]{43})$/;

export class MultipartUploads {
  private readonly store: MultipartUploadStore;
  private readonly ttlMs: number;
  private readonly maxParts: number;
  private readonly now: () => number;

  constructor(private readonly options: MultipartUploadsOptions) {
    this.store = options.store;
    this.ttlMs = options.urlTtlMs ?? 3_600_000;
    this.maxParts = options.maxParts ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Starts an upload of `path` (checked like any artifact path) in `numParts` parts; one ticket per part. */
  async create(input: { actor: string; project: string; path: string; numParts: number }): Promise<PartTicket[]> {
    const path = safeRelativePath(input.path);
    if (!Number.isInteger(input.numParts) || input.numParts < 1 || input.numParts > this.maxParts)
      throw new InvalidInputError(`num_parts must be between 1 and ${this.maxParts}, got ${input.numParts}`);
    await this.store.removeExpired(this.now() - this.ttlMs);
    const upload: UploadRecord = {
      id: randomBytes(16).toString("hex"),
      actor: input.actor,
      project: input.project,
      path,
      numParts: input.numParts,
      expiresAt: this.now() + this.ttlMs,
    };
    await this.store.insertUpload(upload);
    return Array.from({ length: upload.numParts }, (_, i) => ({
      uploadId: upload.id,
      partNumber: i + 1,
      token: this.sign(upload.id, i + 1, upload.expiresAt),
    }));
  }

  /**
   * Checks a part URL's token and claims its part, so the URL works once (on any server). Throws
   * UnauthenticatedError (401: the URL is the credential) for a forged, expired, reused or unknown
   * upload's URL, without saying more than which.
   */
  async claim(token: string): Promise<PartClaim> {
    const m = TOKEN.exec(token);
    if (!m) throw new UnauthenticatedError("this part URL is not one this server handed out");
    const [, uploadId, part, expires] = m as unknown as [string, string, string, string];
    const expected = this.sign(uploadId, Number(part), Number(expires));
    // Lengths first: timingSafeEqual throws on unequal lengths (a part number written "01").
    if (expected.length !== token.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(token)))
      throw new UnauthenticatedError("this part URL's signature does not match (altered or forged)");
    if (Number(expires) <= this.now())
      throw new UnauthenticatedError("this part URL has expired; start the upload again");
    const upload = await this.store.getUpload(uploadId);
    if (!upload) throw new UnauthenticatedError(`upload ${uploadId} was completed, aborted or forgotten`);
    const partNumber = Number(part);
    if (!(await this.store.claimPart(uploadId, partNumber, this.now())))
      throw new UnauthenticatedError(
        `part ${partNumber} of upload ${uploadId} was already sent; a part URL works once`,
      );
    return { uploadId, partNumber, actor: upload.actor, project: upload.project };
  }

  /** Stores a claimed part's bytes; answers its ETag (the part's SHA-256). */
  async putPart(claim: PartClaim, data: Readable | Uint8Array | string): Promise<string> {
    let sha256: string;
    try {
      sha256 = (await this.options.artifacts.putBlob(data)).sha256;
    } catch (error) {
      // The bytes never arrived whole: the same URL may be tried again.
      await this.store.releasePart(claim.uploadId, claim.partNumber);
      throw error;
    }
    if (!(await this.store.storePart(claim.uploadId, claim.partNumber, sha256)))
      throw new NotFoundError(`upload ${claim.uploadId} is gone`);
    return sha256;
  }

  /** Joins the parts (all of them, each with the ETag its PUT answered) into the artifact at the upload's path. */
  async complete(input: {
    actor: string;
    project: string;
    path: string;
    uploadId: string;
    parts: Array<{ partNumber: number; etag: string }>;
  }): Promise<void> {
    const upload = await this.uploadFor(input.project, input.path, input.uploadId);
    const given = new Map(input.parts.map((p) => [p.partNumber, p.etag.replace(/^"|"$/g, "")]));
    const stored = new Map((await this.store.parts(upload.id)).map((p) => [p.partNumber, p.sha256]));
    const blobs: string[] = [];
    for (let n = 1; n <= upload.numParts; n++) {
      const sha256 = stored.get(n);
      if (!sha256)
        throw new InvalidInputError(`part ${n} of ${upload.numParts} of upload ${upload.id} was not uploaded`);
      if (given.has(n) && given.get(n) !== sha256)
        throw new InvalidInputError(`part ${n}: etag ${given.get(n)} is not the ETag its upload answered`);
      blobs.push(sha256);
    }
    if (given.size !== upload.numParts || [...given.keys()].some((n) => n < 1 || n > upload.numParts))
      throw new InvalidInputError(
        `complete lists parts ${[...given.keys()].join(", ")}; the upload has 1..${upload.numParts}`,
      );
    // Two completes at once (on two servers): one removes the upload and writes the artifact.
    if (!(await this.store.removeUpload(upload.id))) throw new NotFoundError(`no multipart upload ${upload.id}`);
    const { artifacts } = this.options;
    const joined = Readable.from(
      (async function* () {
        for (const sha256 of blobs) yield* await artifacts.getBlob(sha256);
      })(),
    );
    await this.options.put(input.actor, input.project, upload.path, joined);
  }

  /** Forgets an upload; its stored parts are left to the garbage collector. */
  async abort(input: { project: string; path: string; uploadId: string }): Promise<void> {
    await this.store.removeUpload((await this.uploadFor(input.project, input.path, input.uploadId)).id);
  }

  /** Parts of unfinished uploads: the garbage collector must keep them (a reference check). */
  inFlightBlobs(): Promise<Set<string>> {
    return this.store.partBlobs();
  }

  private async uploadFor(project: string, rawPath: string, uploadId: string): Promise<UploadRecord> {
    const upload = await this.store.getUpload(uploadId);
    // Another project's upload is reported as unknown, like any id the caller may not see.
    if (!upload || upload.project !== project) throw new NotFoundError(`no multipart upload ${uploadId}`);
    if (upload.path !== safeRelativePath(rawPath))
      throw new InvalidInputError(`upload ${uploadId} is for ${upload.path}, not ${rawPath}`);
    return upload;
  }

  private sign(uploadId: string, part: number, expiresAt: number): string {
    const payload = `${uploadId}.${part}.${expiresAt}`;
    return `${payload}.${createHmac("sha256", this.options.key).update(payload).digest("base64url")}`;
  }
}
