"""A directed graph and its SVG, laid out by Graphviz's `dot` (run locally: the site is built and
read without a network, so no JavaScript renderer fetched from a CDN)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field

from hypspec.site.definitions import SiteError

INSTALL = "apt-get install graphviz (or `make tools`, which installs it as root)"


@dataclass(frozen=True)
class Edge:
    tail: str
    head: str
    label: str
    dashed: bool = False


@dataclass
class Digraph:
    """Nodes by id with their label; `ranks` lists groups of node ids drawn side by side;
    `clusters` boxes groups of nodes under a title."""

    direction: str = "TB"
    nodes: dict[str, str] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    ranks: list[list[str]] = field(default_factory=list)
    clusters: list[tuple[str, list[str]]] = field(default_factory=list)
    shapes: dict[str, str] = field(default_factory=dict)  # a node id → a Graphviz shape

    def node(self, ident: str, label: str, shape: str = "box") -> str:
        self.nodes[ident] = label
        self.shapes[ident] = shape
        return ident

    def edge(self, tail: str, head: str, label: str, dashed: bool = False) -> None:
        self.edges.append(Edge(tail, head, label, dashed))

    def add_label(self, tail: str, head: str, label: str, dashed: bool = False) -> None:
        """An edge, or one more line on the edge already drawn between the two in that style: many
        cases that go the same way make one arrow with a line each, not a bundle of arrows."""
        for number, edge in enumerate(self.edges):
            if (edge.tail, edge.head, edge.dashed) == (tail, head, dashed):
                self.edges[number] = Edge(tail, head, f"{edge.label}\n{label}", dashed)
                return
        self.edge(tail, head, label, dashed)


def to_dot(graph: Digraph) -> str:
    """The graph in the DOT language; every id and label quoted, so any text is safe."""
    lines = ["digraph G {", f"  rankdir={graph.direction};", '  bgcolor="transparent";',
             '  node [fontname="Helvetica", fontsize=11, style="rounded,filled", fillcolor="#f5f5f5"];',
             '  edge [fontname="Helvetica", fontsize=9];']
    clustered = {ident for _, members in graph.clusters for ident in members}
    for number, (title, members) in enumerate(graph.clusters):
        lines.append(f"  subgraph cluster_{number} {{ label={_quote(title)}; style=dashed; "
                     f'fontname="Helvetica";')
        lines += [_node_line(graph, ident) for ident in members]
        lines.append("  }")
    lines += [_node_line(graph, ident) for ident in graph.nodes if ident not in clustered]
    for edge in graph.edges:
        style = ", style=dashed" if edge.dashed else ""
        lines.append(f"  {_quote(edge.tail)} -> {_quote(edge.head)} [label={_quote(edge.label)}{style}];")
    for rank in graph.ranks:
        lines.append("  { rank=same; " + " ".join(_quote(ident) for ident in rank) + " }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_line(graph: Digraph, ident: str) -> str:
    return f"  {_quote(ident)} [label={_quote(graph.nodes[ident])}, shape={graph.shapes[ident]}];"


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def render_svg(graph: Digraph) -> str:
    """The SVG `dot` draws for the graph."""
    dot = shutil.which("dot")
    if dot is None:
        raise SiteError(f"the site's diagrams need Graphviz's `dot`, which is not installed: {INSTALL}")
    done = subprocess.run([dot, "-Tsvg"], input=to_dot(graph), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SiteError(f"Graphviz's dot failed on a generated diagram: {done.stderr.strip()}")
    # dot's output starts with an XML prologue and a DOCTYPE; an <img> reads the file as is
    return done.stdout
