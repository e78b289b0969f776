"""Machine-facing URLs, mounted before the site's catch-all /<entity>/<project>/ patterns."""

from functools import wraps

from django.http import JsonResponse
from django.urls import path, re_path

from . import wandb
from .v1 import api as api_v1


def _json_method_not_allowed(view):
    """Ninja answers a wrong method with an empty 405; API clients read {"detail": ...}."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            response = JsonResponse(
                {"detail": f"Method {request.method} not allowed; use {allowed}."}, status=405
            )
            response["Allow"] = allowed
        return response

    return wrapped


def _not_found(request, rest):
    return JsonResponse({"detail": "No such API endpoint."}, status=404)


v1_patterns, v1_app_name, v1_namespace = api_v1.urls
for pattern in v1_patterns:
    pattern.callback = _json_method_not_allowed(pattern.callback)

urlpatterns = [
    # What the wandb client calls (WANDB_BASE_URL pointing at Teamsite).
    path("graphql", wandb.graphql, name="wandb_graphql"),
    path(
        "files/<str:entity>/<str:project>/<str:run_id>/file_stream",
        wandb.file_stream,
        name="wandb_file_stream",
    ),
    path("storage/<str:token>/<str:filename>", wandb.transfer_file, name="wandb_transfer"),
    re_path(
        r"^artifactsV2/(?P<region>[^/]+)/(?P<entity>[^/]+)/(?P<project>[^/]+)/"
        r"(?P<collection>[^/]+)/(?P<ids>.+)/(?P<hexhash>[0-9a-f]{32})/(?P<filename>[^/]+)\Z",
        wandb.artifact_file_v2,
        name="wandb_artifact_file_v2",
    ),
    re_path(r"^sdk/otel/", wandb.telemetry_probe),
    path("api/v1/", (v1_patterns, v1_app_name, v1_namespace)),
    re_path(r"^api/(?P<rest>.*)\Z", _not_found),
]
