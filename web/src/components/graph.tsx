/**
 * A directed graph laid out by dagre and drawn as SVG: pipeline DAGs and model lineage. The SVG
 * scales with its container (viewBox), so a wide graph shrinks at 375 px instead of scrolling.
 */
import { useMemo, type KeyboardEvent } from "react";
import { graphlib, layout } from "@dagrejs/dagre";

export interface GraphNode {
  id: string;
  label: string;
  /** Second line, e.g. "running · cached". */
  sublabel?: string;
  /** CSS class suffix for colour, e.g. a status. */
  tone?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
}

const NODE_W = 170;
const NODE_H = 48;

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

export function Graph({
  nodes,
  edges,
  title,
  direction = "LR",
  selected,
  onSelect,
  testId,
}: {
  nodes: GraphNode[];
  edges: GraphEdge[];
  title: string;
  direction?: "LR" | "TB";
  selected?: string | null;
  onSelect?(id: string): void;
  testId?: string;
}) {
  const laid = useMemo(() => {
    const g = new graphlib.Graph();
    g.setGraph({ rankdir: direction, nodesep: 24, ranksep: 56, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H });
    for (const e of edges) if (g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to);
    layout(g);
    const info = g.graph();
    return {
      width: Math.max(info.width ?? 0, NODE_W + 16),
      height: Math.max(info.height ?? 0, NODE_H + 16),
      nodes: nodes.map((n) => ({ ...n, x: g.node(n.id).x, y: g.node(n.id).y })),
      edges: g.edges().map((e) => ({ key: `${e.v}->${e.w}`, points: g.edge(e).points ?? [] })),
    };
  }, [nodes, edges, direction]);

  const keyDown = (id: string) => (e: KeyboardEvent) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      onSelect?.(id);
    }
  };

  return (
    <figure className="graph" data-testid={testId}>
      <svg
        viewBox={`0 0 ${laid.width} ${laid.height}`}
        style={{ maxWidth: `${laid.width}px` }}
        role="group"
        aria-label={title}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#555" />
          </marker>
        </defs>
        {laid.edges.map((e) => (
          <polyline
            key={e.key}
            points={e.points.map((p: { x: number; y: number }) => `${p.x},${p.y}`).join(" ")}
            fill="none"
            stroke="#555"
            strokeWidth="1.5"
            markerEnd="url(#arrow)"
          />
        ))}
        {laid.nodes.map((n) => (
          <g
            key={n.id}
            transform={`translate(${n.x - NODE_W / 2},${n.y - NODE_H / 2})`}
            className={`node tone-${n.tone ?? "none"}${selected === n.id ? " selected" : ""}`}
            data-node={n.id}
            data-tone={n.tone}
            // A button's name comes from its visible text (axe: label-content-name-mismatch); a
            // non-interactive node is an image labelled with its full, untruncated text.
            {...(onSelect
              ? {
                  role: "button",
                  tabIndex: 0,
                  onClick: () => onSelect(n.id),
                  onKeyDown: keyDown(n.id),
                  "aria-pressed": selected === n.id,
                }
              : { role: "img", "aria-label": `${n.label}${n.sublabel ? ` ${n.sublabel}` : ""}` })}
          >
            <rect width={NODE_W} height={NODE_H} rx="6" />
            <text x="10" y="20" className="node-label">
              {truncate(n.label, 22)}
            </text>
            {n.sublabel && (
              <text x="10" y="38" className="node-sub">
                {truncate(n.sublabel, 26)}
              </text>
            )}
          </g>
        ))}
      </svg>
    </figure>
  );
}
