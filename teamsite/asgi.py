import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teamsite.settings")

application = get_asgi_application()

# Fail at start, not at the first signed cookie: reading an empty SECRET_KEY raises
# ImproperlyConfigured (the settings fall back to a key only with DEBUG).
_ = settings.SECRET_KEY
