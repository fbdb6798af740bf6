/**
 * Calling an OpenAI-compatible upstream (`POST {base}/chat/completions`), plain and streamed.
 * Every failure becomes an UpstreamError with a message that says what went wrong — timed out,
 * answered 5xx, answered something that is not a chat completion — so the caller gets a clear 502
 * and the prediction log a readable error. Calls go through `fetcher`: the server's one guarded
 * fetch for user-set URLs (SSRF: no loopback, link-local or private address unless
 * TANDEM_OUTBOUND_ALLOW allows it), for endpoints and judges alike; its refusal is a 502 too.
 */
import { ForbiddenError, TandemError } from "../errors.js";
import type { ChatMessage, ModelParams } from "./model.js";

/** The upstream failed or answered badly: 502 to the caller. */
export class UpstreamError extends TandemError {
  constructor(message: string, details?: unknown) {
    super("BAD_GATEWAY", message, details);
  }
}

/** fetch() for a user-set URL (the outbound guard's); the global fetch where none is given. */
export type UpstreamFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<Response>;

/**
 * The same call with the whole answer read into memory (the guard's `fetchBuffered`): plain calls
 * use it when given, as web streams cost about three times a buffered read. It enforces `timeoutMs`
 * itself and fails with an error named "TimeoutError" when the time is up.
 */
export type BufferedUpstreamFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; timeoutMs: number },
) => Promise<{ status: number; body: Buffer }>;

export interface UpstreamCall {
  baseUrl: string;
  apiKey: string | null;
  model: string;
  messages: ChatMessage[];
  params: ModelParams;
  /** Extra OpenAI request fields the caller sent (tools, response_format, stop, …), passed through. */
  extra?: Record<string, unknown>;
  timeoutMs: number;
  fetcher?: UpstreamFetch;
  bufferedFetcher?: BufferedUpstreamFetch;
}

export interface Completion {
  /** The upstream's JSON answer, parsed. */
  body: Record<string, unknown>;
  /** The same answer as the upstream sent it: forwarded without serialising it again. */
  raw: string;
  answer: string;
  inputTokens: number | null;
  outputTokens: number | null;
  finishReason: string | null;
  model: string | null;
}

function requestBody(call: UpstreamCall, stream: boolean): string {
  const { model: _ignored, ...params } = call.params;
  return JSON.stringify({
    ...(call.extra ?? {}),
    ...params,
    model: call.model,
    messages: call.messages,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

function failed(call: UpstreamCall, error: unknown, timeout: AbortSignal | null): UpstreamError {
  if (error instanceof ForbiddenError) return new UpstreamError(error.message);
  if (timeout?.aborted || (error instanceof Error && error.name === "TimeoutError"))
    return new UpstreamError(`upstream ${call.baseUrl} did not answer within ${call.timeoutMs} ms (timed out)`);
  const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
  return new UpstreamError(`upstream ${call.baseUrl} could not be reached: ${cause}`);
}

function httpFailure(call: UpstreamCall, status: number, text: string): UpstreamError {
  const shown = text.slice(0, 300);
  return new UpstreamError(`upstream ${call.baseUrl} answered HTTP ${status}${shown ? `: ${shown}` : ""}`, {
    upstream_status: status,
  });
}

/** `{base}/chat/completions`, made once per base URL (the endpoint's upstream is one string). */
const completionUrls = new Map<string, string>();
function completionsUrl(baseUrl: string): string {
  let url = completionUrls.get(baseUrl);
  if (url === undefined) {
    url = `${baseUrl.replace(/\/+$/, "")}/chat/completions`;
    if (completionUrls.size >= 1000) completionUrls.clear();
    completionUrls.set(baseUrl, url);
  }
  return url;
}

function requestInit(call: UpstreamCall, stream: boolean) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (call.apiKey) headers.authorization = `Bearer ${call.apiKey}`;
  return { url: completionsUrl(call.baseUrl), method: "POST", headers, body: requestBody(call, stream) };
}

async function post(call: UpstreamCall, stream: boolean, signal?: AbortSignal): Promise<Response> {
  const timeout = AbortSignal.timeout(call.timeoutMs);
  const { url, ...init } = requestInit(call, stream);
  let res: Response;
  try {
    res = await (call.fetcher ?? fetch)(url, {
      ...init,
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
  } catch (error) {
    throw failed(call, error, timeout);
  }
  if (!res.ok) throw httpFailure(call, res.status, await res.text().catch(() => ""));
  return res;
}

/** The answer's text: through the buffered fetcher when there is one, else a streamed Response. */
async function answerText(call: UpstreamCall): Promise<string> {
  if (!call.bufferedFetcher) {
    const res = await post(call, false);
    return res.text().catch((error: unknown) => {
      throw new UpstreamError(`upstream ${call.baseUrl} broke off its answer: ${String(error)}`);
    });
  }
  // The fetcher's own timer, cleared when the call ends (AbortSignal.timeout's would hold a timer,
  // a WeakRef and a finalization record for the whole delay: ~45 µs of CPU per call at 60 s).
  const { url, ...init } = requestInit(call, false);
  let answer: { status: number; body: Buffer };
  try {
    answer = await call.bufferedFetcher(url, { ...init, timeoutMs: call.timeoutMs });
  } catch (error) {
    throw failed(call, error, null);
  }
  const text = answer.body.toString("utf8");
  if (answer.status < 200 || answer.status > 299) throw httpFailure(call, answer.status, text);
  return text;
}

function usageOf(body: Record<string, unknown>): { input: number | null; output: number | null } {
  const usage = body.usage as Record<string, unknown> | undefined;
  const pick = (...keys: string[]) => {
    for (const k of keys) if (typeof usage?.[k] === "number") return usage[k];
    return null;
  };
  return { input: pick("prompt_tokens", "input_tokens"), output: pick("completion_tokens", "output_tokens") };
}

export async function complete(call: UpstreamCall): Promise<Completion> {
  const text = await answerText(call);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new UpstreamError(
      `upstream ${call.baseUrl} answered something that is not JSON: ${JSON.stringify(text.slice(0, 120))}`,
    );
  }
  const choice = Array.isArray(body.choices) ? (body.choices[0] as Record<string, unknown> | undefined) : undefined;
  const message = choice?.message as Record<string, unknown> | undefined;
  if (!choice || !message)
    throw new UpstreamError(`upstream ${call.baseUrl} answered JSON without choices[0].message: not a chat completion`);
  const usage = usageOf(body);
  return {
    body,
    raw: text,
    answer: typeof message.content === "string" ? message.content : JSON.stringify(message.content ?? ""),
    inputTokens: usage.input,
    outputTokens: usage.output,
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    model: typeof body.model === "string" ? body.model : null,
  };
}

/**
 * Streams server-sent events from the upstream: `onEvent` gets each `data:` payload as sent (to
 * forward unchanged), and the result sums what they said (content, usage, finish reason).
 */
export async function completeStream(
  call: UpstreamCall,
  onEvent: (data: string) => void,
  signal?: AbortSignal,
): Promise<Omit<Completion, "body" | "raw">> {
  const res = await post(call, true, signal);
  if (!res.body) throw new UpstreamError(`upstream ${call.baseUrl} answered a stream without a body`);
  const decoder = new TextDecoder();
  let buffer = "";
  let answer = "";
  let inputTokens: number | null = null;
  let outputTokens: number | null = null;
  let finishReason: string | null = null;
  let model: string | null = null;
  let done = false;
  const handle = (data: string) => {
    onEvent(data);
    if (data === "[DONE]") {
      done = true;
      return;
    }
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      throw new UpstreamError(`upstream ${call.baseUrl} streamed an event that is not JSON: ${data.slice(0, 120)}`);
    }
    if (typeof chunk.model === "string") model = chunk.model;
    const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as Record<string, unknown> | undefined) : undefined;
    const delta = choice?.delta as Record<string, unknown> | undefined;
    if (typeof delta?.content === "string") answer += delta.content;
    if (typeof choice?.finish_reason === "string") finishReason = choice.finish_reason;
    const usage = usageOf(chunk);
    if (usage.input !== null) inputTokens = usage.input;
    if (usage.output !== null) outputTokens = usage.output;
  };
  try {
    for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(part, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n");
        if (data) handle(data);
      }
    }
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw new UpstreamError(
      `upstream ${call.baseUrl} broke off its stream: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!done) throw new UpstreamError(`upstream ${call.baseUrl} ended its stream without [DONE]`);
  return { answer, inputTokens, outputTokens, finishReason, model };
}
