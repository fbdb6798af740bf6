/** One call to an LLM endpoint of a test server, as a client sends it (the admin token, the project header). */
import type { TestServer } from "./server.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire answers read by field in assertions
export type ChatAnswer = { status: number; headers: Headers; body: Record<string, any> };

export async function chatCall(
  t: TestServer,
  project: string,
  endpoint: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<ChatAnswer> {
  const res = await fetch(`${t.url}/v1/endpoints/${endpoint}/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${t.adminToken}`,
      "content-type": "application/json",
      "x-tandem-project": project,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as ChatAnswer["body"] };
}
