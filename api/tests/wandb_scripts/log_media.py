"""Log a histogram over steps, audio, HTML, a plotly figure and a 3D object with the real client.
Usage: log_media.py RESULT.json ENTITY"""

import json
import struct
import sys
import wave

import plotly.graph_objects as go
import wandb

result_path, entity = sys.argv[1:]
result = {}
try:
    with wave.open("tone.wav", "wb") as out:  # a tenth of a second of silence, 8 kHz mono
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(struct.pack("<800h", *([0] * 800)))
    with open("cube.obj", "w") as out:
        out.write("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")

    run = wandb.init(entity=entity, project="media", name="media")
    for step in range(5):
        # Bins move right as training goes on: the heat map puts them on one grid.
        edges = [step + index * 0.5 for index in range(9)]
        counts = [index * (step + 1) for index in range(8)]
        run.log({"weights": wandb.Histogram(np_histogram=(counts, edges)), "loss": 1 / (step + 1)})
    figure = go.Figure(go.Bar(x=["a", "b"], y=[3, 4]), layout={"title": {"text": "bars"}})
    run.log(
        {
            "voice": wandb.Audio("tone.wav", caption="silence"),
            "page": wandb.Html("<h1>report</h1><p>logged html</p>"),
            "curve": wandb.Plotly(figure),
            "mesh": wandb.Object3D("cube.obj"),
        }
    )
    run.finish()
    result["id"] = run.id
except Exception as error:
    result["error"] = f"{type(error).__name__}: {error}"
with open(result_path, "w") as out:
    json.dump(result, out, default=str)
