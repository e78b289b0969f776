"""The artifact pages: types, collection, a version's files, previews, description, zip, diff
and permissions. Lineage has its own tests (test_artifact_lineage.py).

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in the public open-team.
"""

import io
import json
import zipfile
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from artifacts.models import Artifact
from teams.models import Role
from tests.factories import ProjectFactory, RunFactory, UserFactory, add_member

from .logged import log_version, use

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\xdac\xfc\xcf\xc0\xf0\x1f\x00\x05\x05\x02\x00_\xc8\xf1\xd2"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
V0 = {
    "model.py": b"import torch\n\nLAYERS = 3\n",
    "config.json": b'{"lr": 0.1, "layers": [1, 2]}',
    "data/train.csv": b"x,y\n1,2\n3,4\n",
    "data/images/cat.png": PNG,
    "weights.bin": b"\x00\x01" * 50,
}
V1 = {
    "model.py": b"import torch\n\nLAYERS = 4\n",
    "config.json": V0["config.json"],
    "data/train.csv": V0["data/train.csv"],
    "notes.txt": b"new\n",
}


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def bobs_run(resnet, bob):
    return RunFactory(project=resnet, run_id="bobrun01", name="bold-sun-7", author=bob)


@pytest.fixture
def v0(resnet, bobs_run):
    return log_version(resnet, bobs_run, "mymodel", V0, aliases=["best"], metadata={"acc": 0.9})


@pytest.fixture
def v1(resnet, bobs_run, v0):
    return log_version(resnet, bobs_run, "mymodel", V1)


def url(name, artifact, *extra, project=None):
    collection = artifact.collection
    project = project or collection.project
    args = [project.entity.name, project.name, collection.type, collection.name]
    return reverse(f"artifacts:{name}", args=[*args, artifact.version, *extra])


def test_types_collection_and_version_pages_list_the_artifacts(client, bob, resnet, v0, v1):
    client.force_login(bob)

    types = client.get(reverse("artifacts:types", args=["example-team", "resnet"]))
    collection = client.get(
        reverse("artifacts:collection", args=["example-team", "resnet", "model", "mymodel"])
    )
    page = client.get(url("version", v0))
    project_page = client.get(resnet.get_absolute_url()).content.decode()

    assert "mymodel" in types.content.decode() and "model" in types.content.decode()
    assert url("version", v1) in collection.content.decode()
    text = page.content.decode()
    for shown in ("model.py", "config.json", "data/", "best", "bold-sun-7", "&quot;acc&quot;: 0.9"):
        assert shown in text
    assert "train.csv" not in text  # inside the data folder
    assert url("version", v0) in project_page


def test_a_version_is_found_by_its_alias(client, bob, v0, v1):
    client.force_login(bob)
    args = ["example-team", "resnet", "model", "mymodel"]

    by_alias = client.get(reverse("artifacts:version", args=[*args, "best"]))
    latest = client.get(reverse("artifacts:version", args=[*args, "latest"]))
    missing = client.get(reverse("artifacts:version", args=[*args, "v9"]))

    assert by_alias.context["artifact"] == v0
    assert latest.context["artifact"] == v1
    assert missing.status_code == 404


def test_the_files_browser_opens_folders_with_their_sizes(client, bob, v0):
    client.force_login(bob)

    root = client.get(url("version", v0)).context["listing"]
    data = client.get(url("version", v0), {"path": "data/"}).context["listing"]
    images = client.get(url("version", v0), {"path": "data/images"}).context["listing"]
    missing = client.get(url("version", v0), {"path": "nope/"})

    assert [(f.name, f.file_count, f.size) for f in root.folders] == [
        ("data", 2, len(PNG) + len(V0["data/train.csv"]))
    ]
    assert [f.short_name for f in root.files] == ["config.json", "model.py", "weights.bin"]
    assert [f.name for f in data.folders] == ["images"]
    assert [f.short_name for f in data.files] == ["train.csv"]
    assert [f.name for f in images.files] == ["data/images/cat.png"]
    assert images.crumbs == [("data", "data/"), ("images", "data/images/")]
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("name", "kind", "shown"),
    [
        ("model.py", "text", "LAYERS"),
        ("config.json", "text", '{\n  "lr": 0.1,\n  "layers": ['),
        ("data/train.csv", "table", "<th>x</th><th>y</th>"),
        ("data/images/cat.png", "image", '<img src="/example-team/resnet/artifacts/mymodel/v0/'),
        ("weights.bin", "binary", "Binary file"),
    ],
)
def test_each_kind_of_file_has_its_preview(client, bob, v0, name, kind, shown):
    client.force_login(bob)

    response = client.get(url("preview", v0, name))

    assert response.context["preview"].kind == kind
    text = response.content.decode()
    assert shown in text if kind in ("table", "image") else unescape(strip_tags(text))
    download = reverse("artifacts:file", args=["example-team", "resnet", "mymodel", 0, name])
    assert download in text


def test_a_csv_preview_shows_its_first_rows(client, bob, resnet, bobs_run):
    rows = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(500))
    version = log_version(resnet, bobs_run, "table", {"big.csv": rows}, type_name="dataset")
    client.force_login(bob)

    preview = client.get(url("preview", version, "big.csv")).context["preview"]

    assert preview.header == ["a", "b"] and len(preview.rows) == 100 and preview.truncated
    assert preview.rows[-1] == ["99", "9801"]


def test_the_whole_version_downloads_as_a_streamed_zip(client, bob, v0):
    client.force_login(bob)

    response = client.get(url("zip", v0))

    assert response.streaming and response["Content-Type"] == "application/zip"
    assert 'filename="mymodel-v0.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    assert {name: archive.read(name) for name in archive.namelist()} == {
        f"mymodel-v0/{name}": data for name, data in V0.items()
    }


def test_the_diff_lists_added_removed_and_changed_files_with_a_text_diff(client, bob, v0, v1):
    client.force_login(bob)

    response = client.get(url("diff", v1))  # against the previous version by default
    same = client.get(url("diff", v0), {"against": "latest"}).context["diff"]

    diff = response.context["diff"]
    assert [f.name for f in diff.added] == ["notes.txt"]
    assert [f.name for f in diff.removed] == ["data/images/cat.png", "weights.bin"]
    assert [c.name for c in diff.changed] == ["model.py"]
    assert diff.unchanged == 2
    assert "-LAYERS = 3" in diff.changed[0].diff and "+LAYERS = 4" in diff.changed[0].diff
    assert "+LAYERS = 4" in response.content.decode()
    assert same.old == v0 and same.new == v1 and [c.name for c in same.changed] == ["model.py"]


def test_the_first_version_has_no_default_diff(client, bob, v0):
    client.force_login(bob)

    response = client.get(url("diff", v0))

    assert response.context["diff"] is None and 'id="no-diff"' in response.content.decode()
    assert client.get(url("diff", v0), {"against": "v7"}).status_code == 404


def test_a_changed_large_or_binary_file_gets_no_text_diff(client, bob, resnet, bobs_run):
    big = b"line\n" * 20_000
    log_version(resnet, bobs_run, "blob", {"a.txt": big, "b.bin": b"\x00"})
    second = log_version(resnet, bobs_run, "blob", {"a.txt": big + b"x\n", "b.bin": b"\x01"})
    client.force_login(bob)

    diff = client.get(url("diff", second)).context["diff"]

    notes = {change.name: change.diff_note for change in diff.changed}
    assert notes == {"a.txt": "Larger than 64 KB: no text diff.", "b.bin": "Not a text file."}
    assert all(change.diff == [] for change in diff.changed)


# --- the description ---------------------------------------------------------------------------


def test_the_runs_author_edits_the_description(client, bob, v0):
    client.force_login(bob)

    response = client.post(url("description", v0), {"description": "  ResNet-50, epoch 10 "})

    assert response.status_code == 302
    v0.refresh_from_db()
    assert v0.description == "ResNet-50, epoch 10"
    assert "ResNet-50, epoch 10" in client.get(url("version", v0)).content.decode()


def test_an_admin_edits_the_description_with_htmx(client, alice, v0):
    client.force_login(alice)

    response = client.post(
        url("description", v0), {"description": "checked"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section class="panel" id="description">')
    v0.refresh_from_db()
    assert v0.description == "checked"


def test_a_too_long_description_changes_nothing(client, bob, v0):
    client.force_login(bob)

    client.post(url("description", v0), {"description": "x" * 10_001})

    v0.refresh_from_db()
    assert v0.description == ""


def test_another_member_cannot_edit_the_description(client, team, v0):
    carol = UserFactory(username="carol")
    add_member(team, carol, Role.MEMBER)
    client.force_login(carol)

    response = client.post(url("description", v0), {"description": "mine"})
    page = client.get(url("version", v0)).content.decode()

    assert response.status_code == 403
    assert "Edit the description" not in page
    v0.refresh_from_db()
    assert v0.description == ""


def test_an_outsider_gets_404_and_an_anonymous_visitor_is_sent_to_sign_in(client, charlie, v0):
    anonymous = client.post(url("description", v0), {"description": "x"})
    client.force_login(charlie)
    outsider = client.post(url("description", v0), {"description": "x"})

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert outsider.status_code == 404
    v0.refresh_from_db()
    assert v0.description == ""


# --- who sees what -----------------------------------------------------------------------------


PAGES = [
    ("version", ()),
    ("preview", ("model.py",)),
    ("zip", ()),
    ("diff", ()),
    ("lineage", ()),
]


@pytest.mark.parametrize(("name", "extra"), PAGES)
@pytest.mark.parametrize(
    ("who", "status"), [("alice", 200), ("bob", 200), ("charlie", 404), (None, 404)]
)
def test_a_private_projects_pages_are_for_its_members(
    client, request, v0, v1, name, extra, who, status
):
    if who:
        client.force_login(request.getfixturevalue(who))

    assert client.get(url(name, v1, *extra)).status_code == status
    if name == "version":
        listing = reverse("artifacts:types", args=["example-team", "resnet"])
        assert client.get(listing).status_code == status


@pytest.mark.parametrize(("name", "extra"), PAGES)
def test_a_public_projects_pages_are_readable_anonymously(client, public_team, alice, name, extra):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    run = RunFactory(project=project, run_id="openrun1", author=alice)
    log_version(project, run, "mymodel", V0)
    version = log_version(project, run, "mymodel", V1)

    assert client.get(url(name, version, *extra)).status_code == 200
    response = client.post(url("description", version), {"description": "x"})
    assert response.status_code == 302  # to sign in
    assert Artifact.objects.get(pk=version.pk).description == ""


def test_an_outsider_of_a_public_project_cannot_edit(client, public_team, alice, charlie):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    run = RunFactory(project=project, run_id="openrun1", author=alice)
    version = log_version(project, run, "mymodel", V0)
    client.force_login(charlie)

    assert client.get(url("version", version)).status_code == 200
    assert client.post(url("description", version), {"description": "x"}).status_code == 403


# --- queries -----------------------------------------------------------------------------------


def _logged(resnet, bob, size):
    runs = [RunFactory(project=resnet, run_id=f"r{size}x{i}", author=bob) for i in range(size)]
    files = {f"dir{i % 3}/file{i}.txt": b"%d\n" % i for i in range(size)}
    version = log_version(resnet, runs[0], f"model{size}", files, aliases=[f"a{size}"])
    use(version, *runs)
    return version


def test_the_pages_cost_the_same_queries_at_two_sizes(
    client, bob, resnet, django_assert_num_queries
):
    small, large = _logged(resnet, bob, 2), _logged(resnet, bob, 12)
    client.force_login(bob)
    counts = {}
    for name in ("version", "types", "collection"):
        for version in (small, large):
            if name == "version":
                target = url("version", version)
            elif name == "types":
                target = reverse("artifacts:types", args=["example-team", "resnet"])
            else:
                target = reverse(
                    "artifacts:collection",
                    args=["example-team", "resnet", "model", version.collection.name],
                )
            with CaptureQueriesContext(connection) as queries:
                assert client.get(target).status_code == 200
            counts.setdefault(name, []).append(len(queries))
    for name, (at_small, at_large) in counts.items():
        assert at_small == at_large, name
    with django_assert_num_queries(counts["version"][0]):
        client.get(url("version", large))


def test_metadata_is_shown_as_json(client, bob, resnet, bobs_run):
    version = log_version(
        resnet, bobs_run, "meta", {"a.txt": b"a"}, metadata={"nested": {"k": [1, 2]}}
    )
    client.force_login(bob)

    text = client.get(url("version", version)).context["metadata_text"]

    assert json.loads(text) == {"nested": {"k": [1, 2]}}


def test_a_missing_file_or_type_is_404(client, bob, v0):
    client.force_login(bob)
    wrong_type = reverse(
        "artifacts:version", args=["example-team", "resnet", "dataset", "mymodel", "v0"]
    )

    assert client.get(url("preview", v0, "nope.txt")).status_code == 404
    assert client.get(wrong_type).status_code == 404
