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


@dataclass(frozen=True)
class Place:
    """The project of a node: where its page is, and how to name it from another project."""

    pk: int
    name: str
    entity_pk: int
    entity_name: str

    @classmethod
    def of(cls, project) -> "Place":
        return cls(project.pk, project.name, project.entity_id, project.entity.name)


def _label(name: str, place: Place, home: Place) -> str:
    """Names of another project carry its path."""
    if place.pk == home.pk:
        return name
    if place.entity_pk == home.entity_pk:
        return f"{place.name}/{name}"
    return f"{place.entity_name}/{place.name}/{name}"


# Rows, not model instances: a layer may hold a thousand nodes.
RUN_FIELDS = ("pk", "run_id", "name", "project_id", "project__name", "project__entity_id")
RUN_FIELDS += ("project__entity__name",)
VERSION_FIELDS = ("pk", "version_index", "collection__name", "collection__type")
VERSION_FIELDS += tuple(f"collection__{field}" for field in RUN_FIELDS[3:])


def _artifact_node(row, home: Place, layer) -> Node:
    pk, index, name, type_name, *place = row
    place = Place(*place)
    return Node(
        key=f"a{pk}",
        kind="artifact",
        label=_label(f"{name}:v{index}", place, home),
        detail=type_name,
        url=reverse(
            "artifacts:version", args=[place.entity_name, place.name, type_name, name, f"v{index}"]
        ),
        layer=layer,
    )


def _run_node(row, home: Place, layer) -> Node:
    pk, run_id, name, *place = row
    place = Place(*place)
    return Node(
        key=f"r{pk}",
        kind="run",
        label=_label(name or run_id, place, home),
        detail=run_id,
        url=reverse("runs:detail", args=[place.entity_name, place.name, run_id]),
        layer=layer,
    )


def lineage(artifact: Artifact, visible, hops: int = DEFAULT_HOPS) -> Lineage:
    """`visible`: the projects the viewer may see (a queryset of them, or of their ids)."""
    collection = artifact.collection
    home = Place.of(collection.project)
    root_row = (artifact.pk, artifact.version_index, collection.name, collection.type)
    root = _artifact_node((*root_row, *vars(home).values()), home, 0)
    graph = Lineage(root=root, hops=hops, nodes={root.key: root})
    start = {artifact.pk: {"pk": artifact.pk, "created_by_run_id": artifact.created_by_run_id}}
    for direction in (-1, 1):
        artifacts, runs = start, {}
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


def _add(graph: Lineage, key: str, make_node, layer: int, shown: dict) -> bool:
    """Add the node `key` (built by `make_node()` only then) unless it is in the graph or its
    layer is full; whether it is in the graph."""
    if key in graph.nodes:
        return True
    if len(shown) >= LAYER_NODES:
        graph.hidden[layer] = graph.hidden.get(layer, 0) + 1
        return False
    graph.nodes[key] = shown[key] = make_node()
    return True


def _runs_of(graph, artifacts: dict, home, visible, layer, *, upstream: bool) -> dict:
    """The runs that logged (upstream) or used (downstream) these versions: one query."""
    shown: dict = {}
    found = {}
    if upstream:
        by_run = {}
        for artifact in artifacts.values():
            if artifact["created_by_run_id"]:
                by_run.setdefault(artifact["created_by_run_id"], []).append(artifact["pk"])
        rows = Run.objects.filter(pk__in=by_run, project__in=visible).values_list(*RUN_FIELDS)
        pairs = [(row, artifact_pk) for row in rows for artifact_pk in by_run[row[0]]]
    else:
        rows = (
            # Runs in the trash are left out, as the upstream read's live runs leave them.
            UsedBy.objects.filter(
                artifact_id__in=artifacts, run__project__in=visible, run__trashed_at__isnull=True
            )
            .order_by("run_id")
            .values_list("artifact_id", *(f"run__{field}" for field in RUN_FIELDS))
        )
        pairs = [(row[1:], row[0]) for row in rows]
    for row, artifact_pk in pairs:
        key = f"r{row[0]}"
        if _add(graph, key, lambda row=row: _run_node(row, home, layer), layer, shown):
            edge = (key, f"a{artifact_pk}") if upstream else (f"a{artifact_pk}", key)
            graph.edges.add(edge)
            if key in shown:
                found[row[0]] = row
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
            .order_by("artifact_id")
            .values_list(
                "run_id",
                "artifact__created_by_run_id",
                *(f"artifact__{field}" for field in VERSION_FIELDS),
            )
        )
    else:
        rows = (
            Artifact.objects.committed()
            .filter(created_by_run_id__in=runs, collection__project__in=visible)
            .order_by("pk")
            .values_list("created_by_run_id", "created_by_run_id", *VERSION_FIELDS)
        )
    for run_pk, logged_by, *row in rows:
        key = f"a{row[0]}"
        if _add(graph, key, lambda row=row: _artifact_node(row, home, layer), layer, shown):
            edge = (key, f"r{run_pk}") if upstream else (f"r{run_pk}", key)
            graph.edges.add(edge)
            if key in shown:
                found[row[0]] = {"pk": row[0], "created_by_run_id": logged_by}
    return found
