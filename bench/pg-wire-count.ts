/**
 * Counts what a server says to PostgreSQL: a TCP proxy between it and the database that reads the
 * frontend/backend protocol (v3) as it passes. The server runs unchanged (point its
 * TANDEM_DATABASE_URL at `url`), so the counts are of the real code path, the pool and the driver
 * included.
 *
 * - statements: Execute ('E') and simple Query ('Q') messages, each named by its SQL text (a
 *   prepared statement's text is read from its Parse, once per connection);
 * - round trips: ReadyForQuery ('Z') messages from the server, one per cycle the client waits for;
 * - transactions: statements whose text is BEGIN (or START TRANSACTION).
 *
 * Snapshots are cumulative; subtract two to count a window.
 */
import { createServer, connect, type Socket } from "node:net";

export interface WireCounts {
  statements: number;
  roundTrips: number;
  transactions: number;
  /** Statements by their first words (`insert into "tracking_runs"`, `select … from "audit_events"`). */
  byText: Record<string, number>;
}

export interface WireCounter {
  /** The same database URL, through the proxy. */
  url: string;
  snapshot(): WireCounts;
  stop(): Promise<void>;
}

/** A short name for a statement: its verb and the first table it names. */
export function statementLabel(text: string): string {
  const t = text.replace(/\s+/g, " ").trim();
  const verb = (/^\w+/.exec(t)?.[0] ?? "?").toLowerCase();
  const table = /\b(?:from|into|update|table)\s+("?[\w.]+"?)/i.exec(t)?.[1]?.replace(/"/g, "");
  return table ? `${verb} ${table}` : t.slice(0, 60).toLowerCase();
}

export async function startWireCounter(databaseUrl: string): Promise<WireCounter> {
  const target = new URL(databaseUrl);
  const counts: WireCounts = { statements: 0, roundTrips: 0, transactions: 0, byText: {} };
  const sockets = new Set<Socket>();
  const count = (text: string) => {
    counts.statements++;
    const label = statementLabel(text);
    if (label === "begin" || /^start transaction/i.test(text.trim())) counts.transactions++;
    counts.byText[label] = (counts.byText[label] ?? 0) + 1;
  };

  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    const named = new Map<string, string>(); // prepared statement name -> text, this connection
    const portals = new Map<string, string>(); // portal -> text (pg uses the unnamed portal)
    let unnamedText = "";
    let started = false;
    let fromClient = Buffer.alloc(0);
    let fromServer = Buffer.alloc(0);

    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      fromClient = Buffer.concat([fromClient, chunk]);
      for (;;) {
        if (!started) {
          // Startup (or SSLRequest): length-prefixed, no type byte.
          if (fromClient.length < 4) break;
          const len = fromClient.readInt32BE(0);
          if (fromClient.length < len) break;
          const code = fromClient.readInt32BE(4);
          fromClient = fromClient.subarray(len);
          if (code !== 80877103) started = true; // 80877103: SSLRequest, answered before the real startup
          continue;
        }
        if (fromClient.length < 5) break;
        const type = String.fromCharCode(fromClient[0]!);
        const len = fromClient.readInt32BE(1);
        if (fromClient.length < 1 + len) break;
        const body = fromClient.subarray(5, 1 + len);
        fromClient = fromClient.subarray(1 + len);
        if (type === "Q") count(body.toString("utf8", 0, body.length - 1));
        else if (type === "P") {
          const nameEnd = body.indexOf(0);
          const name = body.toString("utf8", 0, nameEnd);
          const text = body.toString("utf8", nameEnd + 1, body.indexOf(0, nameEnd + 1));
          if (name) named.set(name, text);
          else unnamedText = text;
        } else if (type === "B") {
          const portalEnd = body.indexOf(0);
          const portal = body.toString("utf8", 0, portalEnd);
          const stmt = body.toString("utf8", portalEnd + 1, body.indexOf(0, portalEnd + 1));
          portals.set(portal, stmt ? (named.get(stmt) ?? stmt) : unnamedText);
        } else if (type === "E") {
          const portal = body.toString("utf8", 0, body.indexOf(0));
          count(portals.get(portal) ?? "?");
        }
      }
    });
    upstream.on("data", (chunk: Buffer) => {
      client.write(chunk);
      fromServer = Buffer.concat([fromServer, chunk]);
      for (;;) {
        if (fromServer.length < 1) break;
        // The one-byte answer to an SSLRequest ('N') has no length.
        if (fromServer[0] === 78 && !started) {
          fromServer = fromServer.subarray(1);
          continue;
        }
        if (fromServer.length < 5) break;
        const len = fromServer.readInt32BE(1);
        if (fromServer.length < 1 + len) break;
        if (fromServer[0] === 90) counts.roundTrips++; // 'Z' ReadyForQuery
        fromServer = fromServer.subarray(1 + len);
      }
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", close).on("error", close);
    upstream.on("close", close).on("error", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    snapshot: () => ({ ...counts, byText: { ...counts.byText } }),
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What happened between two snapshots, per request. */
export function perRequest(
  before: WireCounts,
  after: WireCounts,
  requests: number,
): { statements: number; roundTrips: number; transactions: number; byText: Record<string, number> } {
  const per = (n: number) => Number((n / requests).toFixed(2));
  const byText: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.byText)) {
    const d = v - (before.byText[k] ?? 0);
    if (d) byText[k] = per(d);
  }
  return {
    statements: per(after.statements - before.statements),
    roundTrips: per(after.roundTrips - before.roundTrips),
    transactions: per(after.transactions - before.transactions),
    byText,
  };
}
