/**
 * Follows a pipeline run over server-sent events (`…/pipeline-runs/:id/events`): the run with its
 * steps on every change, and its log lines. On a dropped connection it reconnects after the last
 * line it has, so no line is shown twice.
 */
import { useEffect, useRef, useState } from "react";
import { projectPath } from "../api/client";
import type { LogLineWire, PipelineRunWire } from "../api/pipelines";

export interface RunStream {
  run: PipelineRunWire | null;
  lines: LogLineWire[];
  /** The server said the run is over and every line was sent. */
  ended: boolean;
  error: string | null;
  /** Reopens the stream (after retry: the same run continues). */
  restart(): void;
}

export function useRunStream(project: string, id: string): RunStream {
  const [run, setRun] = useState<PipelineRunWire | null>(null);
  const [lines, setLines] = useState<LogLineWire[]>([]);
  const [ended, setEnded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const lastSeq = useRef(0);

  useEffect(() => {
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const open = () => {
      source = new EventSource(
        projectPath(project, `/pipeline-runs/${encodeURIComponent(id)}/events?after=${lastSeq.current}`),
      );
      source.addEventListener("run", (e) => {
        setRun(JSON.parse((e as MessageEvent<string>).data) as PipelineRunWire);
        setError(null);
      });
      source.addEventListener("log", (e) => {
        const fresh = (JSON.parse((e as MessageEvent<string>).data) as { lines: LogLineWire[] }).lines.filter(
          (l) => l.seq > lastSeq.current,
        );
        if (!fresh.length) return;
        lastSeq.current = fresh[fresh.length - 1]!.seq;
        setLines((old) => [...old, ...fresh]);
      });
      source.addEventListener("end", () => {
        stopped = true;
        source?.close();
        setEnded(true);
      });
      source.onerror = () => {
        source?.close();
        if (stopped) return;
        setError("live updates interrupted; reconnecting…");
        retry = setTimeout(open, 1500);
      };
    };
    setEnded(false);
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [project, id, generation]);

  return { run, lines, ended, error, restart: () => setGeneration((g) => g + 1) };
}
