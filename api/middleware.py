from django.http import JsonResponse

from .auth import ApiKeyThrottled


class ApiKeyThrottledMiddleware:
    """The wandb endpoints (api/wandb.py) authenticate in the view; an address refused for too
    many wrong keys gets the 429 here, as JSON in their error shape, with Retry-After, which the
    client waits for before trying again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApiKeyThrottled):
            return None
        message = str(exception)
        response = JsonResponse({"errors": [{"message": message}], "error": message}, status=429)
        response["Retry-After"] = str(exception.wait)
        return response
