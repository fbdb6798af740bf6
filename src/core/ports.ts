/**
 * Ports shared by every area. A transaction is opaque to the domain: services pass it from
 * `MetadataStore.transaction` into the area stores, which know what it really is.
 */
export interface Tx {
  readonly __brand: "Tx";
}

export interface MetadataStore {
  readonly dialect: "sqlite" | "postgres";
  /** Runs `fn` in one transaction: all of its writes land or none do. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
