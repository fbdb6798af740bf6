/**
 * The UI's only way to the server: the public HTTP API, same origin, authenticated by the session
 * cookie the browser sends by itself (the token is never kept in page-readable storage).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Listener = () => void;
const unauthenticatedListeners = new Set<Listener>();

/** Called when any request answers 401, so the app can show the sign-in form again. */
export function onUnauthenticated(listener: Listener): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const parsed = JSON.parse(text) as {
      error?: { code?: string; message?: string };
      error_code?: string;
      message?: string;
    };
    if (parsed.error)
      return new ApiError(res.status, parsed.error.code ?? "ERROR", parsed.error.message ?? res.statusText);
    if (parsed.error_code) return new ApiError(res.status, parsed.error_code, parsed.message ?? res.statusText);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(res.status, "HTTP_" + res.status, text.slice(0, 200) || res.statusText);
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  if (!res.ok) {
    const error = await errorOf(res);
    if (res.status === 401) for (const l of unauthenticatedListeners) l();
    throw error;
  }
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export const get = <T>(path: string, signal?: AbortSignal) => request<T>("GET", path, { signal });
export const post = <T>(path: string, body?: unknown) => request<T>("POST", path, { body: body ?? {} });
export const put = <T>(path: string, body?: unknown) => request<T>("PUT", path, { body: body ?? {} });
export const patch = <T>(path: string, body?: unknown) => request<T>("PATCH", path, { body: body ?? {} });
export const del = <T>(path: string) => request<T>("DELETE", path);

/** `/api/v1/projects/<project>` + rest, with the project name escaped. */
export function projectPath(project: string, rest: string): string {
  return `/api/v1/projects/${encodeURIComponent(project)}${rest}`;
}

/** Builds a query string, leaving out undefined and empty values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : "";
}
