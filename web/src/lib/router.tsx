/**
 * A small history-API router: the UI has a dozen flat pages, which does not justify a routing
 * library. Paths look like /p/<project>/<page>/<id>.
 */
import {
  createContext,
  useContext,
  useEffect,
  useState,
  type AnchorHTMLAttributes,
  type MouseEvent,
  type ReactNode,
} from "react";

const LocationContext = createContext<URL>(new URL(window.location.href));

export function navigate(to: string, replace = false): void {
  if (replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function RouterProvider({ children }: { children: ReactNode }) {
  const [url, setUrl] = useState(() => new URL(window.location.href));
  useEffect(() => {
    const update = () => setUrl(new URL(window.location.href));
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  return <LocationContext.Provider value={url}>{children}</LocationContext.Provider>;
}

export function useLocation(): URL {
  return useContext(LocationContext);
}

/** Path segments after /p/<project>/, e.g. ["runs", "abc"]. */
export function useRoute(): { project: string | null; segments: string[] } {
  const url = useLocation();
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== "p" || !parts[1]) return { project: null, segments: parts };
  return { project: parts[1], segments: parts.slice(2) };
}

export function projectHref(project: string, ...rest: string[]): string {
  return ["", "p", project, ...rest].map((s, i) => (i < 2 ? s : encodeURIComponent(s))).join("/");
}

/** Replaces one query parameter in the current URL without a new history entry. */
export function setQueryParam(name: string, value: string | null): void {
  const url = new URL(window.location.href);
  if (value === null || value === "") url.searchParams.delete(name);
  else url.searchParams.set(name, value);
  navigate(url.pathname + url.search, true);
}

export function Link({ href, children, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
