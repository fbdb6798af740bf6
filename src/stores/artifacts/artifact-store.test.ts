import { randomBytes, createHash } from "node:crypto";
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  mkdirSync,
} from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestS3, type TestS3 } from "../../../test/helpers/s3.js";
import type { ArtifactStore } from "../../core/artifacts/ports.js";
import { safeRelativePath } from "../../core/artifacts/paths.js";
import { getManifest, putManifest } from "../../core/artifacts/manifest.js";
import { FsArtifactStore } from "./fs-artifact-store.js";
import { S3ArtifactStore } from "./s3-artifact-store.js";
import { STALE_PART_AGE_MS } from "./spool.js";
import { materializeTree, putTree } from "./tree.js";

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A stream that yields `total` bytes in uneven chunks, so nothing is one buffer. */
function chunkedStream(data: Buffer): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= data.length) return this.push(null);
      const size = 1 + Math.floor(Math.random() * 16_384);
      this.push(data.subarray(offset, offset + size));
      offset += size;
    },
  });
}

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

function artifactSuite(name: string, open: () => Promise<ArtifactStore>) {
  describe(name, () => {
    let store: ArtifactStore;
    beforeAll(async () => {
      store = await open();
    });

    it("round-trips a streamed 100 000-byte blob byte for byte", async () => {
      const data = randomBytes(100_000);
      const info = await store.putBlob(chunkedStream(data));
      expect(info).toEqual({ sha256: sha(data), size: 100_000 });
      const back = await readAll(await store.getBlob(info.sha256));
      expect(back.length).toBe(100_000);
      expect(back.equals(data)).toBe(true);
      expect(await store.statBlob(info.sha256)).toEqual({ sha256: info.sha256, size: 100_000 });
    });

    it("stores identical content once and reports what is missing", async () => {
      const a = await store.putBlob("same bytes");
      const b = await store.putBlob(Buffer.from("same bytes"));
      expect(a.sha256).toBe(b.sha256);
      const absent = sha("never stored");
      expect(await store.missingBlobs([a.sha256, absent])).toEqual([absent]);
    });

    it("refuses content that does not match the expected hash", async () => {
      await expect(store.putBlob("abc", { expectedSha256: sha("abd") })).rejects.toThrow(
        /does not match|not the expected/,
      );
      expect(await store.statBlob(sha("abc"))).toBeNull();
    });

    it("lists and deletes blobs", async () => {
      const info = await store.putBlob("to be deleted");
      const listed: string[] = [];
      for await (const b of store.listBlobs()) listed.push(b.sha256);
      expect(listed).toContain(info.sha256);
      await store.deleteBlob(info.sha256);
      expect(await store.statBlob(info.sha256)).toBeNull();
      await expect(store.getBlob(info.sha256)).rejects.toThrow(/not stored/);
    });

    it("stores a directory as a manifest and materialises it verified", async () => {
      const dir = mkdtempSync(join(tmpdir(), "tandem-tree-"));
      mkdirSync(join(dir, "sub", "deeper"), { recursive: true });
      writeFileSync(join(dir, "a.txt"), "alpha");
      writeFileSync(join(dir, "sub", "deeper", "b.bin"), randomBytes(5000));
      const { manifest, entries } = await putTree(store, dir);
      expect(entries.map((e) => e.path)).toEqual(["a.txt", "sub/deeper/b.bin"]);
      expect((await getManifest(store, manifest)).entries).toEqual(entries);
      const out = mkdtempSync(join(tmpdir(), "tandem-tree-out-"));
      await materializeTree(store, manifest, out);
      expect(readFileSync(join(out, "a.txt"), "utf8")).toBe("alpha");
      expect(
        readFileSync(join(out, "sub", "deeper", "b.bin")).equals(readFileSync(join(dir, "sub", "deeper", "b.bin"))),
      ).toBe(true);
    });

    it("refuses manifests with unsafe paths", async () => {
      const h = sha("x");
      for (const bad of ["../etc/passwd", "/abs/path", "a/../../b", "nul\0byte"]) {
        await expect(putManifest(store, [{ path: bad, sha256: h, size: 1 }])).rejects.toThrow(/path/);
      }
    });
  });
}

describe("safeRelativePath", () => {
  it("normalises and refuses", () => {
    expect(safeRelativePath("./a//b/")).toBe("a/b");
    expect(() => safeRelativePath("..")).toThrow();
    expect(() => safeRelativePath("C:\\x")).toThrow();
  });
});

artifactSuite("FsArtifactStore", async () =>
  FsArtifactStore.create({ root: mkdtempSync(join(tmpdir(), "tandem-fs-")) }),
);

describe("FsArtifactStore integrity", () => {
  it("fails a read whose bytes were corrupted on disk, and leaves no temp files after writes", async () => {
    const root = mkdtempSync(join(tmpdir(), "tandem-fs-"));
    const store = await FsArtifactStore.create({ root });
    const info = await store.putBlob("precious");
    writeFileSync(store.pathOf(info.sha256), "tampered");
    await expect(readAll(await store.getBlob(info.sha256))).rejects.toThrow(/corrupt/);
    expect(await readdir(join(root, "tmp"))).toEqual([]);
  });
});

describe("FsArtifactStore.putFile (hash and copy in one pass on worker threads)", () => {
  it("stores many files at once byte for byte, shares identical content, and leaves no temp files", async () => {
    const root = mkdtempSync(join(tmpdir(), "tandem-fs-"));
    const src = mkdtempSync(join(tmpdir(), "tandem-src-"));
    const store = await FsArtifactStore.create({ root });
    // Sizes around the worker's 1 MiB read buffer, an empty file, and two files with the same bytes.
    const contents = [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3_000_000].map((n) => randomBytes(n));
    contents.push(Buffer.from(contents[5]!));
    const paths = contents.map((c, i) => {
      const p = join(src, `f${i}`);
      writeFileSync(p, c);
      return p;
    });
    const stored = await Promise.all(paths.map((p) => store.putFile(p)));
    for (const [i, info] of stored.entries()) {
      expect(info).toEqual({ sha256: sha(contents[i]!), size: contents[i]!.length });
      expect(readFileSync(store.pathOf(info.sha256)).equals(contents[i]!)).toBe(true);
    }
    expect(await readdir(join(root, "tmp"))).toEqual([]);
  });

  it("refuses a file whose bytes do not match the expected hash, and names a missing file", async () => {
    const root = mkdtempSync(join(tmpdir(), "tandem-fs-"));
    const store = await FsArtifactStore.create({ root });
    const p = join(mkdtempSync(join(tmpdir(), "tandem-src-")), "data.csv");
    writeFileSync(p, "a,b\n1,2\n");
    await expect(store.putFile(p, { expectedSha256: sha("other") })).rejects.toThrow(
      /data\.csv hashes to [0-9a-f]{64}, not the expected/,
    );
    await expect(store.putFile(`${p}.gone`)).rejects.toThrow(/ENOENT.*data\.csv\.gone/);
    expect(await readdir(join(root, "tmp"))).toEqual([]);
  });
});

artifactSuite("FsArtifactStore with fsync off (TANDEM_ARTIFACTS_FSYNC=off)", async () =>
  FsArtifactStore.create({ root: mkdtempSync(join(tmpdir(), "tandem-fs-")), fsync: false }),
);

describe("FsArtifactStore durability", () => {
  it("gives a copied blob a new file's mode, whatever the source's", async () => {
    const store = await FsArtifactStore.create({ root: mkdtempSync(join(tmpdir(), "tandem-fs-")) });
    const src = mkdtempSync(join(tmpdir(), "tandem-src-"));
    const newFileMode = 0o666 & ~process.umask();
    for (const [i, mode] of [0o400, 0o755, 0o600].entries()) {
      const p = join(src, `f${i}`);
      writeFileSync(p, `content ${i}`);
      chmodSync(p, mode);
      const info = await store.putFile(p);
      expect(statSync(store.pathOf(info.sha256)).mode & 0o777).toBe(newFileMode);
    }
  });

  it("replaces a stored blob cut short (a power loss with fsync off) when the same bytes come again", async () => {
    const store = await FsArtifactStore.create({ root: mkdtempSync(join(tmpdir(), "tandem-fs-")), fsync: false });
    const bytes = randomBytes(50_000);
    const src = join(mkdtempSync(join(tmpdir(), "tandem-src-")), "a.bin");
    writeFileSync(src, bytes);
    const info = await store.putFile(src);
    truncateSync(store.pathOf(info.sha256), 4096);
    expect(await store.putFile(src)).toEqual(info);
    expect(readFileSync(store.pathOf(info.sha256)).equals(bytes)).toBe(true);
    truncateSync(store.pathOf(info.sha256), 0);
    expect(await store.putBlob(bytes)).toEqual(info);
    expect(readFileSync(store.pathOf(info.sha256)).equals(bytes)).toBe(true);
  });

  it("sweeps a killed write's stale .part files when it opens, and leaves fresh ones and other files", async () => {
    const root = mkdtempSync(join(tmpdir(), "tandem-fs-"));
    mkdirSync(join(root, "tmp"));
    const stale = new Date(Date.now() - STALE_PART_AGE_MS - 60_000);
    for (const name of ["dead.part", "live.part", "notes.txt"]) writeFileSync(join(root, "tmp", name), "half");
    // A day-old .part is a killed add's; a .part written now may be another process's add in flight.
    utimesSync(join(root, "tmp", "dead.part"), stale, stale);
    utimesSync(join(root, "tmp", "notes.txt"), stale, stale);
    const store = await FsArtifactStore.create({ root });
    expect((await readdir(join(root, "tmp"))).sort()).toEqual(["live.part", "notes.txt"]);
    const info = await store.putBlob("after the sweep");
    expect(readFileSync(store.pathOf(info.sha256), "utf8")).toBe("after the sweep");
  });

  it("makes named blobs durable, stored or not, with fsync on and off", async () => {
    for (const fsync of [true, false]) {
      const root = mkdtempSync(join(tmpdir(), "tandem-fs-"));
      const store = await FsArtifactStore.create({ root, fsync });
      const src = join(mkdtempSync(join(tmpdir(), "tandem-src-")), "a.bin");
      writeFileSync(src, randomBytes(70_000));
      const stored = [await store.putFile(src), await store.putBlob("manifest-like")];
      // A hash whose fan-out directory does not exist: nothing to sync, not an error.
      const absent = "ff".repeat(32);
      await expect(store.makeDurable([...stored.map((b) => b.sha256), absent])).resolves.toBeUndefined();
      await expect(store.makeDurable([])).resolves.toBeUndefined();
      for (const b of stored) expect(await store.statBlob(b.sha256)).toEqual(b);
      expect(await readdir(join(root, "tmp"))).toEqual([]);
    }
  });
});

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3?.stop();
});
artifactSuite("S3ArtifactStore (s3rver over HTTP)", async () =>
  S3ArtifactStore.create({
    bucket: "tandem-test",
    prefix: "team/a",
    endpoint: s3.endpoint,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    createBucket: true,
  }),
);
