/**
 * Who is signed in, and their role in the current project. The role only decides what the UI offers;
 * the server refuses anything beyond it anyway.
 */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { del, get, onUnauthenticated, projectPath, request } from "../api/client";
import type { MemberWire, Role, SessionInfo } from "../api/types";

interface SessionState {
  status: "loading" | "signed-out" | "signed-in";
  me: SessionInfo | null;
  signIn(token: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<SessionState["status"]>("loading");
  const [me, setMe] = useState<SessionInfo | null>(null);

  const refresh = useCallback(async () => {
    const info = await get<SessionInfo>("/api/v1/session");
    setMe(info.signed_in ? info : null);
    setStatus(info.signed_in ? "signed-in" : "signed-out");
  }, []);

  useEffect(() => {
    refresh().catch(() => setStatus("signed-out"));
    return onUnauthenticated(() => {
      setMe(null);
      setStatus("signed-out");
    });
  }, [refresh]);

  const signIn = useCallback(
    async (token: string) => {
      await request("POST", "/api/v1/session", { headers: { authorization: `Bearer ${token.trim()}` }, body: {} });
      await refresh();
    },
    [refresh],
  );

  const signOut = useCallback(async () => {
    await del("/api/v1/session");
    setMe(null);
    setStatus("signed-out");
  }, []);

  return <SessionContext.Provider value={{ status, me, signIn, signOut }}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}

const RoleContext = createContext<Role | null>(null);

/** Loads the caller's role in `project` (from the members route's `your_role`). */
export function ProjectRoleProvider({ project, children }: { project: string; children: ReactNode }) {
  const [role, setRole] = useState<Role | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    get<{ members: MemberWire[]; your_role: Role | null }>(projectPath(project, "/members"), abort.signal)
      .then((r) => setRole(r.your_role))
      .catch(() => setRole(null));
    return () => abort.abort();
  }, [project]);
  return <RoleContext.Provider value={role}>{children}</RoleContext.Provider>;
}

export function useRole(): Role | null {
  return useContext(RoleContext);
}
