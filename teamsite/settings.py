"""Teamsite settings. Every value that differs between machines comes from the environment."""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


DEBUG = env_bool("DEBUG")

# Without DEBUG there is no fallback: commands that sign nothing (migrate, makemigrations)
# still run, while anything that needs the key, and the web server itself, stops with an error.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-local-development-key-never-used-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Without SITE_URL, pages that tell scripts where to log use the address the browser used.
SITE_URL_SET = bool(os.environ.get("SITE_URL"))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "guardian",
    "django_htmx",
    # The JSON API's library; listed so its Swagger UI is served from static files (no CDN, no
    # inline scripts), within the Content Security Policy.
    "ninja",
    "accounts",
    "teams",
    "projects",
    "runs",
    "artifacts",
    "sweeps",
    "alerts",
    "reports",
    "home",
    "api",
    # Before django_tasks_db: its `db_worker` command, extended to run the periodic jobs.
    "jobs",
    # The database task backend's table (every setup migrates it, whichever backend runs).
    "django_tasks_db",
]

MIDDLEWARE = [
    "teamsite.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "teamsite.middleware.NulCharacterMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "teamsite.lib.staticserve.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "api.middleware.ApiKeyThrottledMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "teamsite.urls"
WSGI_APPLICATION = "teamsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# Database: a SQLite file by default; PostgreSQL in production through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside one writer; IMMEDIATE transactions take the write lock up
    # front so two concurrent writers queue on the busy timeout instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA analysis_limit=1000;"
        ),
    }
    MIDDLEWARE.append("teamsite.middleware.SQLiteOptimizeMiddleware")
    if env_bool("SQLITE_TEST_DB_FILE"):
        # Tests against a live server (the wandb client, the browser) write from several
        # threads: a file in WAL mode queues them as production does, where a shared in-memory
        # database answers "table is locked".
        # One per test process, so two test sessions in one checkout never share it.
        DATABASES["default"]["TEST"] = {"NAME": BASE_DIR / f".test-db-{os.getpid()}.sqlite3"}

elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL compiles (JIT) queries it estimates as costly; the runs table's queries walk
    # an index and stop early, so compiling them costs more (tens of ms) than it ever saves.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # libpq waits for an unreachable server as long as TCP does (minutes); a request, and the
    # readiness probe, should fail sooner.
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 10))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "accounts.backends.HumanAuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user would be a User row without an entity; Teamsite has no use for it.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts (django-allauth)
ACCOUNT_ADAPTER = "teams.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_USERNAME_MIN_LENGTH = 2
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Teamsite] "
# Links in allauth emails (verification, password reset) use the scheme of SITE_URL.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = SITE_URL.split(":", 1)[0]
# Wrong passwords are limited per client address and per (address, account) pair; the adapter
# makes allauth's "key" that pair. There is deliberately no limit per account alone: whoever
# could trip it, from anywhere, would lock the owner out. A spread-out guesser is held to the
# per-address limit on each address, and a successful sign-in does not count.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/10m/ip,5/5m/key"}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# Email: printed to the console unless an SMTP host is configured.
if os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": env_int("EMAIL_PORT", 587),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Teamsite <teamsite@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work: Django's Tasks framework. Without DEBUG, tasks wait in the database for
# `manage.py db_worker`; with DEBUG (and in tests) they run at once in the process that enqueues
# them. TASKS_BACKEND overrides: "immediate", "database", or a backend's import path.
TASK_BACKENDS = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
TASKS_BACKEND = os.environ.get("TASKS_BACKEND") or ("immediate" if DEBUG else "database")
TASKS = {"default": {"BACKEND": TASK_BACKENDS.get(TASKS_BACKEND, TASKS_BACKEND)}}
# Finished task results (and the email text they carry) are deleted after this many days.
TASK_RESULTS_KEEP_DAYS = env_int("TASK_RESULTS_KEEP_DAYS", 7)
# Secrets the site reads back (webhook addresses and signing secrets) are encrypted with these
# Fernet keys (the first encrypts; all decrypt, to rotate); unset: a key derived from SECRET_KEY.
SECRETS_ENCRYPTION_KEYS = env_list("SECRETS_ENCRYPTION_KEYS")
# Deliveries (emails, webhooks) that fail for a passing reason are tried this many times
# in all, waiting DELIVERY_RETRY_DELAY seconds, doubled after each failure.
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 6)
DELIVERY_RETRY_DELAY = env_int("DELIVERY_RETRY_DELAY", 30)
# Webhooks are never posted to these networks (checked on the addresses a host resolves to and
# on the one reached): link-local addresses, where clouds serve instance metadata and
# credentials, and the unspecified addresses. Loopback and private networks stay allowed:
# receivers inside the operator's network are common.
# A network that is not one stops the start.
WEBHOOK_BLOCKED_NETWORKS = [
    str(ipaddress.ip_network(network, strict=False))
    for network in env_list(
        "WEBHOOK_BLOCKED_NETWORKS", "169.254.0.0/16,fe80::/10,0.0.0.0/32,::/128,fd00:ec2::254/128"
    )
]
# A task a worker started this many seconds ago and never finished (the worker was killed) is
# run again.
TASK_ABANDONED_AFTER = env_int("TASK_ABANDONED_AFTER", 3600)
# Each db_worker looks for due periodic jobs this often (seconds).
PERIODIC_JOBS_INTERVAL = env_int("PERIODIC_JOBS_INTERVAL", 30)

# Cache (rate limits and throttles): shared by every web process, never process memory. Redis
# when configured, else a table in the database (created by a migration of `accounts`).
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {
        "default": {
            # Django's database cache with an atomic incr().
            "BACKEND": "teamsite.lib.cache.DatabaseCache",
            "LOCATION": "teamsite_cache",
            # Far above what limits keep (a few rows per active address), so a flood of new
            # keys cannot cull the counts an attacker has run up.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# Sessions live in the database (Django's default, stated here): any process serves any user.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Behind a reverse proxy, the client's address is the last one in X-Forwarded-For (the one the
# proxy added); without this the proxy's own address would stand for every client.
USE_X_FORWARDED_FOR = env_bool("USE_X_FORWARDED_FOR")

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic gathers the files (and their compressed twins) that WhiteNoise serves.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "teamsite.lib.staticfinders.PackagedAssetFinder",
]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic writes hashed copies (cached for good by browsers) and gzip twins (brotli ones
    # too with the brotli package). With DEBUG, Django links the unhashed names: the pages work
    # without collectstatic.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# Security
# Nothing on a page may load from, or send data to, another site (a chart library's "share"
# button included): fetches, forms, images and the page's base URL stay on this site.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    # Images made in the page itself (data: and blob: URLs) are fine.
    "img-src": [CSP.SELF, "data:", "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# Pages with charts: Plotly adds its stylesheet at run time, which needs inline styles. Scripts
# stay limited to the site's own files.
CHART_PAGE_CSP = {**SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Behind a TLS-terminating proxy, trust its X-Forwarded-Proto so the HTTPS redirect does not loop.
if env_bool("USE_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A load balancer probes /healthz and /readyz over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz)$"]

# Teams
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 7)
# An invitation nobody accepted is deleted this many days after it expired.
INVITATION_KEEP_DAYS = env_int("INVITATION_KEEP_DAYS", 30)
INVITATIONS_PER_HOUR = env_int("INVITATIONS_PER_HOUR", 50)

# API keys: an address that sends this many wrong keys in a minute gets 429 for the rest of it.
API_KEY_FAILURES_PER_MINUTE = env_int("API_KEY_FAILURES_PER_MINUTE", 30)

# Runs logged by the wandb client
# One file_stream request: above these it is refused (413) and nothing is written.
FILE_STREAM_MAX_BYTES = env_int("FILE_STREAM_MAX_BYTES", 32 * 1024 * 1024)
FILE_STREAM_MAX_LINES = env_int("FILE_STREAM_MAX_LINES", 50_000)
# One GraphQL request (a run's config travels in it): read from the stream, not capped by
# DATA_UPLOAD_MAX_MEMORY_SIZE, which is for the site's forms. Above it: 413.
GRAPHQL_MAX_BYTES = env_int("GRAPHQL_MAX_BYTES", 64 * 1024 * 1024)
# An artifact's manifest (its list of files), read into memory to count them. Run and artifact
# files stream to storage and have no limit here.
ARTIFACT_MANIFEST_MAX_BYTES = env_int("ARTIFACT_MANIFEST_MAX_BYTES", 64 * 1024 * 1024)
# The storage region names a client may ask for (Artifact(storage_region=...)). Every region
# is this server's own storage; a name not listed is refused.
ARTIFACT_STORAGE_REGIONS = env_list("ARTIFACT_STORAGE_REGIONS", "default")
# A running run that sends nothing for this long (the client beats every 30 s) has crashed.
RUN_HEARTBEAT_TIMEOUT = env_int("RUN_HEARTBEAT_TIMEOUT", 600)
# Deleted runs and projects stay in the trash, restorable, this many days before they are purged.
TRASH_RETENTION_DAYS = env_int("TRASH_RETENTION_DAYS", 30)
# A sweep agent silent this long (seconds) is lost: its runs crash, their points are queued again.
SWEEP_AGENT_TIMEOUT = env_int("SWEEP_AGENT_TIMEOUT", 120)
# The largest grid a sweep may define (points).
SWEEP_MAX_GRID = env_int("SWEEP_MAX_GRID", 10_000_000)
# Upload and download links handed to the client carry their own signed credential.
STORAGE_URL_MAX_AGE = env_int("STORAGE_URL_MAX_AGE", 24 * 3600)

# Files in S3-compatible object storage: STORAGE_URL=s3://bucket (or s3://bucket/prefix). Keys
# come from boto3's usual sources (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). Objects stay
# private: every link is presigned and expires after STORAGE_URL_MAX_AGE.
STORAGE_URL = os.environ.get("STORAGE_URL", "")
if STORAGE_URL:
    # Imported here: boto3 loads only when the storage is S3.
    from teamsite.lib.objectstore import s3_storage_settings

    STORAGES["default"] = s3_storage_settings(
        STORAGE_URL,
        endpoint_url=os.environ.get("S3_ENDPOINT_URL", ""),
        region=os.environ.get("S3_REGION", "us-east-1"),
        url_max_age=STORAGE_URL_MAX_AGE,
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print each record a second time beside the root's.
        "django": {"handlers": [], "level": "INFO"},
        # One line per task would drown the output of commands and the development server.
        "django.tasks": {"level": "WARNING"},
    },
}
