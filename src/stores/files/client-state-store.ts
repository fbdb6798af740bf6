/** The CLI's local documents as files in one directory (the CLI's home), each written atomically. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ClientStateStore } from "../../core/data/ports.js";
import { writeFileAtomic } from "./atomic.js";

export class FileClientStateStore implements ClientStateStore {
  private constructor(private readonly dir: string) {}

  static create(options: { dir: string }): FileClientStateStore {
    return new FileClientStateStore(options.dir);
  }

  async read(name: string): Promise<string | null> {
    return readFile(this.path(name), "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return null;
      throw error;
    });
  }

  write(name: string, text: string): Promise<void> {
    return writeFileAtomic(this.path(name), text);
  }

  private path(name: string): string {
    if (!/^[\w.-]+$/.test(name) || name.startsWith("."))
      throw new Error(`client state name ${name} is not a file name`);
    return join(this.dir, name);
  }
}
