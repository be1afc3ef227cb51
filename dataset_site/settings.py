"""Settings, read strictly from the environment with safe local defaults.

Environment variables (all optional for a local run):
  DJANGO_SECRET_KEY     secret key; when unset one is generated once into DATA_DIR/secret_key
  DJANGO_DEBUG          "1" to enable debug pages (default off)
  DJANGO_ALLOWED_HOSTS  comma-separated host names (default localhost,127.0.0.1)
  DATA_DIR              where the database, uploads and datasets live (default ./var)
  DATABASE_URL          postgres://user:pass@host:port/name to use PostgreSQL instead of SQLite
  Q_WORKERS             django-q2 worker processes (default 2)
  Q_TIMEOUT             seconds one task may run before it is killed (default 7200)
  SQLITE_PATH           the SQLite file (default DATA_DIR/db.sqlite3)
  JOB_STALE_SECONDS     a running job without heartbeat for this long is re-queued (default 120)
  SCRATCH_DIR           temporary work of this machine (default DATA_DIR/scratch; a local disk on a worker machine)
  UPLOAD_MAX_BYTES      largest accepted upload (default 20 GiB)
  UPLOAD_MAX_OPEN       unfinished uploads one user may hold at once (default 20)
  UPLOAD_MAX_OPEN_BYTES bytes one user's unfinished uploads may announce together (default 100 GiB)
  UPLOAD_EXPIRE_HOURS   an unfinished upload untouched this long is deleted (default 24)
  UPLOAD_FREE_MARGIN    bytes that must stay free on the data disk after an upload (default 2 GiB)
  DJANGO_CSRF_TRUSTED_ORIGINS  comma-separated origins (https://data.lab.example) when served behind a proxy
  DJANGO_HTTPS          "1" when a TLS reverse proxy serves the site: secure cookies, HTTPS redirect, HSTS,
                        and the proxy's X-Forwarded-Proto / X-Forwarded-For are trusted
  DJANGO_HSTS_SECONDS   HSTS max-age when DJANGO_HTTPS is on (default one year; 0 turns HSTS off)
  LOGIN_FAILURE_LIMIT   wrong passwords in a row (per user name and address) before a lock-out (default 10)
  LOGIN_COOLOFF_MINUTES how long a lock-out lasts (default 60); an admin can lift it earlier
"""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)  # the lab's recordings: private to the server's user
# Temporary work that nobody else needs to see (a baseline's training export, anything made with tempfile):
# on a worker machine of a multi-machine install, a local disk rather than the shared DATA_DIR.
SCRATCH_DIR = Path(os.environ.get("SCRATCH_DIR", DATA_DIR / "scratch")).resolve()
SCRATCH_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
tempfile.tempdir = str(SCRATCH_DIR)


def _private_file(path: Path) -> Path:
    """Create `path` readable by the server's user only (SQLite gives its -wal/-shm files the same mode)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return path


def _secret_key() -> str:
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "axes",
    "accounts",
    "catalog",
    "uploads",
    "jobs",
    "exports",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.tokens.TokenAuthMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out log-in into the lock-out page
]

ROOT_URLCONF = "dataset_site.urls"
WSGI_APPLICATION = "dataset_site.wsgi.application"

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
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in {"postgres", "postgresql"}:
            raise RuntimeError(f"DATABASE_URL: unsupported scheme {parsed.scheme!r} (use postgres://)")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parsed.path.lstrip("/"),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,  # a connection PostgreSQL dropped (restart) is replaced, not used
        }
    # SQLite is shared by the web process and the django-q2 workers: WAL lets
    # readers run beside a writer, IMMEDIATE takes the write lock at BEGIN so
    # two writers queue on `timeout` instead of failing with "database is locked".
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _private_file(Path(os.environ.get("SQLITE_PATH", DATA_DIR / "db.sqlite3"))),
        # a file, not memory, so worker processes started by tests see the test database
        "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Log-in throttling (django-axes) on the log-in page and the admin's: after LOGIN_FAILURE_LIMIT wrong
# passwords for one user name from one address, that pair is locked out for LOGIN_COOLOFF_MINUTES.
# Keyed on the pair so that a stranger cannot lock a colleague out from elsewhere.  Admins lift a
# lock-out in the admin ("Access attempts": delete) or with `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 60) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "weblib.client_ip.client_ip"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "weblib.staticfinders.PlotlyJsFinder",  # static/vendor/plotly.min.js from the plotly package
]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
def _whitenoise_headers(headers, path, url):  # a path in settings would not do: whitenoise wants the function
    from weblib.staticfinders import long_cache_for_vendor

    long_cache_for_vendor(headers, path, url)


WHITENOISE_ADD_HEADERS_FUNCTION = _whitenoise_headers
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Behind a TLS reverse proxy (README, "Serving a lab"): the proxy says the request came over HTTPS
# and who sent it; cookies travel only over HTTPS and browsers are told to stay on HTTPS (HSTS).
HTTPS = env_bool("DJANGO_HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)

# django-q2 with its ORM broker: no Redis to install.  A task whose worker
# dies is re-delivered after `retry` seconds, which must exceed `timeout`.
Q_TIMEOUT = env_int("Q_TIMEOUT", 7200)
Q_CLUSTER = {
    "name": "dataset",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT + 300,
    "max_attempts": 3,
    # how many messages a cluster holds beyond those running; clip messages are bound to the video, not to
    # a clip (jobs.fanout), so what a busy cluster holds does not keep clips from an idle machine
    "queue_limit": env_int("Q_WORKERS", 2),
    "recycle": 50,
    "catch_up": False,
    "ack_failures": True,
    "poll": 1,
    "label": "Background jobs",
    "daemonize_workers": False,  # a video job runs its clips in a process pool of its own
}
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 20 * 1024**3)  # per file; bigger uploads get 413
UPLOAD_CHUNK_BYTES = 8 * 1024**2  # what the browser client sends per PATCH
UPLOAD_MAX_OPEN = env_int("UPLOAD_MAX_OPEN", 20)
UPLOAD_MAX_OPEN_BYTES = env_int("UPLOAD_MAX_OPEN_BYTES", 100 * 1024**3)
UPLOAD_MAX_REFUSED_PER_HOUR = env_int("UPLOAD_MAX_REFUSED_PER_HOUR", 30)  # refused files per user and hour
UPLOAD_EXPIRE_HOURS = env_int("UPLOAD_EXPIRE_HOURS", 24)
UPLOAD_FREE_MARGIN = env_int("UPLOAD_FREE_MARGIN", 2 * 1024**3)

# A running job writes a heartbeat at least this often; the watchdog re-queues a job whose
# heartbeat is older than JOB_STALE_SECONDS (its worker died) and fails it after JOB_MAX_ATTEMPTS.
JOB_HEARTBEAT_SECONDS = 5
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 120)
JOB_MAX_ATTEMPTS = 2  # a recording whose planning hangs or crashes twice is failed for good, saying why
BASELINE_MAX_ATTEMPTS = 2  # a baseline run whose worker stops twice is failed, saying why
CLIP_MAX_ATTEMPTS = 2  # the same for one clip: it is left out of the dataset, the others go on
# A call into FFmpeg that returns no packet for this long is a hang: the attempt is recorded as hung and the
# worker process exits (jobs.supervise).  A cancelled job's work stops at its next packet, or the process
# exits after CANCEL_GRACE_SECONDS.
MEDIA_STALL_SECONDS = env_int("MEDIA_STALL_SECONDS", 60)
CANCEL_GRACE_SECONDS = 10

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# A file cache is shared by the web process and the worker processes on one
# machine, so the dashboard can read django-q2's cluster heartbeat.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }
}
