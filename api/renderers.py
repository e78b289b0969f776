"""Strict JSON for every machine answer. JSON has no NaN or infinities; Python writes them as
bare NaN/Infinity, which strict parsers (browsers, Go, jq) refuse. They are written as null:
every numeric field of the schemas allows null, while the values users log reach the database
as W&B's strings "NaN"/"Infinity"/"-Infinity" already (runs.ingest.storable)."""

import math

from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class FiniteJSONEncoder(NinjaJSONEncoder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "allow_nan": False})

    def encode(self, o):
        try:
            return super().encode(o)
        except ValueError:
            # Rare: walk the answer only when it holds a non-finite number.
            return super().encode(_finite(o))


class FiniteJSONRenderer(JSONRenderer):
    encoder_class = FiniteJSONEncoder
