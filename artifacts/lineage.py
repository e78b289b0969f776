"""The lineage of an artifact version: the runs and versions upstream (the run that logged it,
the versions that run used, the runs that logged those, ...) and downstream (the runs that used
it, the versions they logged, ...), N hops each way, laid out in layers.

Across projects and entities, within the projects the viewer may see (`visible`): a run or
version of a project hidden from the viewer is left out, as if it did not exist. Each hop is one
query per direction, whatever the number of nodes; a layer shows at most LAYER_NODES of them and
counts the rest."""

from dataclasses import dataclass, field

from django.urls import reverse

from runs.models import Run

from .models import Artifact

DEFAULT_HOPS = 2
MAX_HOPS = 6
LAYER_NODES = 100

UsedBy = Artifact.used_by.through


@dataclass
class Node:
    key: str  # "a<pk>" or "r<pk>"
    kind: str  # "artifact" or "run"
    label: str
    url: str
    layer: int  # 0 for the version; negative upstream, positive downstream
    detail: str = ""


@dataclass
class Lineage:
    root: Node
    hops: int
    nodes: dict = field(default_factory=dict)  # key -> Node
    edges: set = field(default_factory=set)  # (from key, to key), in the direction of use
    hidden: dict = field(default_factory=dict)  # layer -> nodes left out

    def layers(self) -> list[tuple[int, list[Node]]]:
        by_layer: dict[int, list] = {}
        for node in self.nodes.values():
            by_layer.setdefault(node.layer, []).append(node)
        return [(layer, sorted(by_layer[layer], key=_order)) for layer in sorted(by_layer)]

    def figure_data(self) -> dict:
        """Positions (x: layer, y: rank in the layer, centred), labels, links and edges for
        static/js/lineage.js."""
        position = {}
        nodes = []
        for layer, members in self.layers():
            for rank, node in enumerate(members):
                position[node.key] = (layer, (len(members) - 1) / 2 - rank)
                nodes.append(
                    {
                        "x": layer,
                        "y": position[node.key][1],
                        "label": node.label,
                        "kind": node.kind,
                        "url": node.url,
                        "detail": node.detail,
                        "root": node.key == self.root.key,
                    }
                )
        edges = [
            [*position[a], *position[b]]
            for a, b in sorted(self.edges)
            if a in position and b in position
        ]
        return {"nodes": nodes, "edges": edges}


def _order(node: Node):
    return (node.kind, node.label)


def _label(name: str, project, home) -> str:
    """Names of another project carry its path."""
    if project.pk == home.pk:
        return name
    if project.entity_id == home.entity_id:
        return f"{project.name}/{name}"
    return f"{project.entity.name}/{project.name}/{name}"


def _artifact_node(artifact, home, layer) -> Node:
    collection = artifact.collection
    project = collection.project
    return Node(
        key=f"a{artifact.pk}",
        kind="artifact",
        label=_label(f"{collection.name}:v{artifact.version_index}", project, home),
        detail=collection.type,
        url=reverse(
            "artifacts:version",
            args=[
                project.entity.name,
                project.name,
                collection.type,
                collection.name,
                f"v{artifact.version_index}",
            ],
        ),
        layer=layer,
    )


def _run_node(run, home, layer) -> Node:
    project = run.project
    return Node(
        key=f"r{run.pk}",
        kind="run",
        label=_label(run.name or run.run_id, project, home),
        detail=run.run_id,
        url=reverse("runs:detail", args=[project.entity.name, project.name, run.run_id]),
        layer=layer,
    )


def lineage(artifact: Artifact, visible, hops: int = DEFAULT_HOPS) -> Lineage:
    """`visible`: the projects the viewer may see (a queryset of them, or of their ids)."""
    home = artifact.collection.project
    root = _artifact_node(artifact, home, 0)
    graph = Lineage(root=root, hops=hops, nodes={root.key: root})
    for direction in (-1, 1):
        artifacts, runs = {artifact.pk: artifact}, {}
        for hop in range(1, hops + 1):
            layer = direction * hop
            if artifacts:
                runs = _runs_of(graph, artifacts, home, visible, layer, upstream=direction < 0)
                artifacts = {}
            elif runs:
                artifacts = _artifacts_of(graph, runs, home, visible, layer, upstream=direction < 0)
                runs = {}
            else:
                break
    return graph


def _add(graph: Lineage, node: Node, shown: dict) -> bool:
    """Add a node not yet in the graph, unless its layer is full; whether it is in the graph."""
    if node.key in graph.nodes:
        return True
    if len(shown) >= LAYER_NODES:
        graph.hidden[node.layer] = graph.hidden.get(node.layer, 0) + 1
        return False
    graph.nodes[node.key] = shown[node.key] = node
    return True


def _runs_of(graph, artifacts: dict, home, visible, layer, *, upstream: bool) -> dict:
    """The runs that logged (upstream) or used (downstream) these versions: one query."""
    shown: dict = {}
    found = {}
    if upstream:
        by_run = {}
        for artifact in artifacts.values():
            if artifact.created_by_run_id:
                by_run.setdefault(artifact.created_by_run_id, []).append(artifact.pk)
        pairs = []
        runs = Run.objects.filter(pk__in=by_run, project__in=visible).select_related(
            "project__entity"
        )
        for run in runs.only("pk", "run_id", "name", "project__name", "project__entity__name"):
            pairs += [(run, artifact_pk) for artifact_pk in by_run[run.pk]]
    else:
        rows = (
            UsedBy.objects.filter(artifact_id__in=artifacts, run__project__in=visible)
            .select_related("run__project__entity")
            .only(
                "artifact_id",
                "run__id",
                "run__run_id",
                "run__name",
                "run__project__name",
                "run__project__entity__name",
            )
            .order_by("run_id")
        )
        pairs = [(row.run, row.artifact_id) for row in rows]
    for run, artifact_pk in pairs:
        node = _run_node(run, home, layer)
        if _add(graph, node, shown):
            edge = (node.key, f"a{artifact_pk}") if upstream else (f"a{artifact_pk}", node.key)
            graph.edges.add(edge)
            if node.key in shown:
                found[run.pk] = run
    return found


def _artifacts_of(graph, runs: dict, home, visible, layer, *, upstream: bool) -> dict:
    """The versions these runs used (upstream) or logged (downstream): one query."""
    shown: dict = {}
    found = {}
    if upstream:
        rows = (
            UsedBy.objects.filter(
                run_id__in=runs,
                artifact__collection__project__in=visible,
                artifact__state=Artifact.State.COMMITTED,
            )
            .select_related("artifact__collection__project__entity")
            .order_by("artifact_id")
        )
        pairs = [(row.artifact, row.run_id) for row in rows]
    else:
        versions = (
            Artifact.objects.committed()
            .filter(created_by_run_id__in=runs, collection__project__in=visible)
            .select_related("collection__project__entity")
            .order_by("pk")
        )
        pairs = [(version, version.created_by_run_id) for version in versions]
    for version, run_pk in pairs:
        node = _artifact_node(version, home, layer)
        if _add(graph, node, shown):
            edge = (node.key, f"r{run_pk}") if upstream else (f"r{run_pk}", node.key)
            graph.edges.add(edge)
            if node.key in shown:
                found[version.pk] = version
    return found
