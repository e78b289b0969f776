"""Media logged by the unmodified wandb client (pinned in requirements-test.txt): the shapes it
stores (which runs/media reads) and the run page that shows them."""

import json
import re

import pytest
from django.urls import reverse

from runs.history import history
from runs.models import Run
from tests.factories import api_key_for

from .test_wandb_client import wandb_env  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_histograms_audio_html_figures_and_3d_objects_show_on_the_run_page(
    wandb_env,  # noqa: F811
    client,
    team,
    alice,
    bob,
):
    result, completed = wandb_env("log_media.py", "example-team", key=api_key_for(alice))
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "error" not in result, result["error"]

    run = Run.objects.get(run_id=result["id"])
    rows = history(run)
    histograms = [row["weights"] for row in rows if "weights" in row]
    assert len(histograms) == 5
    assert histograms[1] == {
        "_type": "histogram",
        "values": [index * 2 for index in range(8)],
        "bins": [1 + index * 0.5 for index in range(9)],
    }
    last = rows[-1]
    assert last["voice"]["_type"] == "audio-file" and last["voice"]["caption"] == "silence"
    assert last["page"]["_type"] == "html-file"
    assert last["curve"]["_type"] == "plotly-file"
    assert last["curve"]["path"].endswith(".plotly.json")
    assert last["mesh"]["_type"] == "object3D-file" and last["mesh"]["path"].endswith(".obj")
    # The summary keeps each key's last value: the histogram itself, the others as file refs.
    assert run.summary["weights"]["_type"] == "histogram"
    paths = {last[key]["path"] for key in ("voice", "page", "curve", "mesh")}
    assert paths <= set(run.files.exclude(uploaded_at=None).values_list("name", flat=True))

    client.force_login(bob)
    page = client.get(run.get_absolute_url()).content.decode()
    args = [run.project.entity.name, run.project.name, run.run_id]
    assert page.count("data-histogram ") == 1 and "data-histogram-heatmap" in page
    download = reverse("runs:file_download", args=[*args, last["voice"]["path"]])
    assert f'<audio controls preload="metadata" src="{download}">' in page
    frame = re.search(r"<iframe[^>]*>", page).group(0)
    assert 'sandbox="allow-scripts"' in frame and "allow-same-origin" not in frame
    html_url = reverse("runs:media_html", args=[*args, last["page"]["path"]])
    assert html_url in frame
    served = client.get(html_url)
    assert b"logged html" in b"".join(served.streaming_content)
    assert served["Content-Security-Policy"].startswith("sandbox allow-scripts;")
    figure_url = reverse("runs:file_download", args=[*args, last["curve"]["path"]])
    assert f'data-plotly-figure data-url="{figure_url}"' in page
    figure = json.loads(b"".join(client.get(figure_url).streaming_content))
    assert figure["data"] == [{"x": ["a", "b"], "y": [3, 4], "type": "bar"}]
    assert "Wavefront OBJ" in page
    # The summary shows media, not the dicts the client stored.
    summary = re.search(r"<h2>Summary</h2>(.*?)</section>", page, re.S).group(1)
    assert '<svg class="summary-histogram"' in summary and "_type" not in summary
