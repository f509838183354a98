"""One settings module, configured by environment variables (see .env.example).

Defaults give the embedded set-up: SQLite in DAILYPAPERS_DATA_DIR, mail printed to the
console, one process. DATABASE_URL switches to PostgreSQL; DAILYPAPERS_SMTP_URL to SMTP.
"""

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DATA_DIR = Path(env("DAILYPAPERS_DATA_DIR", "dailypapers-data")).expanduser().resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    # A per-installation key, made once and kept in the data directory, so that sessions
    # and signed links survive restarts without the operator having to invent one.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        from django.utils.crypto import get_random_string

        key_file.write_text(get_random_string(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

SITE_URL = env("DAILYPAPERS_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env("DAILYPAPERS_SITE_NAME", "dailypapers")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or [urlsplit(SITE_URL).hostname, "127.0.0.1", "localhost"]
CSRF_TRUSTED_ORIGINS = [SITE_URL]

# Reverse proxies of our own in front of the app (docs/security.md): with N of them, the
# client's address is the Nth X-Forwarded-For entry from the right and X-Forwarded-Proto
# tells https; with 0 (the default) both headers are ignored, as anyone can forge them.
PROXY_COUNT = env_int("DAILYPAPERS_PROXY_COUNT", 0)
NINJA_NUM_PROXIES = PROXY_COUNT  # the API's rate limits count the same address
if PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# An https site: cookies only over https, HSTS, and http redirected (Django's check --deploy).
HTTPS = urlsplit(SITE_URL).scheme == "https"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("DAILYPAPERS_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain http
SECURE_HSTS_SECONDS = env_int("DAILYPAPERS_HSTS_SECONDS", 365 * 86400 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DAILYPAPERS_HSTS_INCLUDE_SUBDOMAINS", True)
# Asking browsers to preload the domain is the domain owner's decision, not a default.
SECURE_HSTS_PRELOAD = env_bool("DAILYPAPERS_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Content-Security-Policy (Django's own, docs/security.md): scripts, styles, fonts and
# images from this site only; no inline script, style or event handler anywhere (htmx
# is configured by a meta tag); pages may not be framed, nor forms sent elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # /api/docs from our own static files, not a CDN (and within the CSP)
    "dailypapers.workers",  # before django_tasks_db and crontask: its commands replace theirs
    "django_tasks_db",
    "crontask",  # the scheduler that `dailypapers serve` runs (ingest, digests)
    "dailypapers.papers",
    "dailypapers.caching",
    "dailypapers.ingest",
    "dailypapers.search",
    "dailypapers.digests",
    "dailypapers.curation",
    "dailypapers.community",
    "dailypapers.notifications",
    "dailypapers.people",
    "dailypapers.api",
    "dailypapers.accounts",
    "dailypapers.backups",
    "dailypapers.web",
    "dailypapers.stats",
    "dailypapers.thumbnails",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",  # first: the https redirect
    # A hit is answered here: no session, no user, no policy to build (the cached copy
    # keeps the Content-Security-Policy header the middleware below gave it).
    "dailypapers.caching.middleware.PageCache",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "dailypapers.web.middleware.RejectNulCharactersMiddleware",
    "dailypapers.api.middleware.CrossOrigin",  # /api/ and /feeds/ readable by any origin
    "dailypapers.api.middleware.ApiMethods",  # HEAD as GET, JSON 405s, under /api/
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dailypapers.urls"
WSGI_APPLICATION = "dailypapers.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dailypapers.web.context_processors.site",
                "dailypapers.notifications.context_processors.unread",
            ],
        },
    },
]


def database_from_env():
    url = env("DATABASE_URL")
    if url:
        import dj_database_url

        try:
            config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        except Exception as exc:  # dj_database_url raises ValueError/KeyError on bad URLs
            raise ImproperlyConfigured(
                f"DATABASE_URL is not a usable database URL: {exc}"
            ) from None
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config["OPTIONS"] = SQLITE_OPTIONS
            config["CONN_MAX_AGE"] = None
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "dailypapers.sqlite3",
        "OPTIONS": SQLITE_OPTIONS,
        # Each server thread keeps its connection: opening one (and its PRAGMAs) cost
        # 0.9 ms, most of a cached page's 1.4 ms (caching/middleware.py).
        "CONN_MAX_AGE": None,
        "TEST": {"NAME": env("DAILYPAPERS_TEST_SQLITE") or None},
    }


# WAL lets readers go on while one writer writes; IMMEDIATE transactions take the write
# lock up front so that concurrent writers wait (busy timeout) instead of failing.
# Pages read through a memory map (up to 2 GB, the usual build's limit) skip a copy and a
# system call: at 1M papers (a 4 GB file) the search's 300 titles took 0.9 ms, not 1.7.
SQLITE_OPTIONS = {
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        "PRAGMA cache_size=-65536; PRAGMA mmap_size=2147418112; PRAGMA temp_store=MEMORY;"
    ),
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}
DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Listing rows are cached per paper state (web/rows.py): room for a few hundred pages' rows.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
}
if env("DAILYPAPERS_CACHE_URL"):
    # Shared by every app server: pages, API answers, rate-limit counts. When Redis is
    # away the site serves without it (caching/redis.py); short timeouts keep a hung
    # Redis from holding requests.
    CACHES["default"] = {
        "BACKEND": "dailypapers.caching.redis.ForgivingRedisCache",
        "LOCATION": env("DAILYPAPERS_CACHE_URL"),
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DAILYPAPERS_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # /static/web/site.css?v=<digest>: a changed file gets a new URL (web/staticfiles.py)
    "staticfiles": {"BACKEND": "dailypapers.web.staticfiles.VersionedStaticFilesStorage"},
}
# Serve app static files straight from the package in one-process mode (no collectstatic).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Email: MAILERS (Django 6.1) from DAILYPAPERS_SMTP_URL, console output otherwise.
DEFAULT_FROM_EMAIL = env(
    "DAILYPAPERS_FROM_EMAIL", f"dailypapers <noreply@{urlsplit(SITE_URL).hostname}>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL


def mailer_from_url(url):
    """smtp://user:pass@host:port?tls=1 (STARTTLS) or smtps://... (implicit TLS)."""
    if not url:
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ImproperlyConfigured("DAILYPAPERS_SMTP_URL must start with smtp:// or smtps://")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    options = {
        "host": parts.hostname or "localhost",
        "port": parts.port or (465 if parts.scheme == "smtps" else 25),
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "use_ssl": parts.scheme == "smtps",
        "use_tls": query.get("tls", query.get("starttls", "0")).lower() in ("1", "true", "yes"),
        "timeout": int(query.get("timeout", 30)),
    }
    return {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}


MAILERS = {"default": mailer_from_url(env("DAILYPAPERS_SMTP_URL"))}

# Digests (docs/email.md): when they go out, how much they hold, how failures are retried.
DIGEST_TIME_ZONE = env("DAILYPAPERS_DIGEST_TIME_ZONE", TIME_ZONE)
DIGEST_SEND_HOUR = env_int("DAILYPAPERS_DIGEST_SEND_HOUR", 7)  # first try; hourly after
DIGEST_WEEKLY_DAY = env_int("DAILYPAPERS_DIGEST_WEEKLY_DAY", 1)  # ISO weekday, 1 = Monday
DIGEST_SEND_RATE = float(env("DAILYPAPERS_DIGEST_SEND_RATE", "0"))  # per connection, 0 = no limit
# SMTP connections at once; 0 = 3 (1 on an in-memory SQLite database).
DIGEST_WORKERS = env_int("DAILYPAPERS_DIGEST_WORKERS", 0)
# Tasks the scheduled digest run splits into, for as many `db_worker` processes at once.
DIGEST_TASKS = env_int("DAILYPAPERS_DIGEST_TASKS", 2)
DIGEST_TRENDING_LIMIT = env_int("DAILYPAPERS_DIGEST_TRENDING_LIMIT", 10)
DIGEST_TOPIC_LIMIT = env_int("DAILYPAPERS_DIGEST_TOPIC_LIMIT", 5)  # per followed thing
DIGEST_MAX_ATTEMPTS = env_int("DAILYPAPERS_DIGEST_MAX_ATTEMPTS", 6)
DIGEST_RETRY_DELAY = float(env("DAILYPAPERS_DIGEST_RETRY_DELAY", "30"))  # doubles per attempt
DIGEST_BOUNCE_LIMIT = env_int("DAILYPAPERS_DIGEST_BOUNCE_LIMIT", 3)
DIGEST_CLAIM_TIMEOUT = float(env("DAILYPAPERS_DIGEST_CLAIM_TIMEOUT", "600"))
DIGEST_CONFIRM_MAX_AGE = env_int("DAILYPAPERS_DIGEST_CONFIRM_MAX_AGE", 7 * 86400)
DIGEST_NOTIFY_INTERVAL = env_int("DAILYPAPERS_DIGEST_NOTIFY_INTERVAL", 600)  # per address
DIGEST_UNSUBSCRIBE_MAILTO = env("DAILYPAPERS_UNSUBSCRIBE_MAILTO", "")
# Per-subscriber return paths (VERP) and unsubscribe mailtos under this address, read back
# by `dailypapers mail receive|serve` (docs/email.md); "" = off.
DIGEST_BOUNCE_ADDRESS = env("DAILYPAPERS_BOUNCE_ADDRESS", "")
if DIGEST_BOUNCE_ADDRESS and not re.fullmatch(r"[^@+\s]+@[^@\s]+", DIGEST_BOUNCE_ADDRESS):
    raise ImproperlyConfigured(
        "DAILYPAPERS_BOUNCE_ADDRESS must be a plain address like bounces@mail.example.org "
        f"(no '+': the per-subscriber part is added after one), not {DIGEST_BOUNCE_ADDRESS!r}"
    )

# Background tasks: the ORM queue on one machine; point TASKS at RQ/Celery at scale.
TASKS = {
    "default": {
        "BACKEND": env("DAILYPAPERS_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Task workers (workers/__init__.py): each beats every TASK_WORKER_BEAT seconds; a running
# task whose worker has not beaten for TASK_ORPHAN_AFTER seconds is queued again, or marked
# failed once TASK_MAX_ATTEMPTS workers died on it.
TASK_WORKER_BEAT = float(env("DAILYPAPERS_TASK_WORKER_BEAT", "10"))
TASK_ORPHAN_AFTER = float(env("DAILYPAPERS_TASK_ORPHAN_AFTER", "60"))
TASK_MAX_ATTEMPTS = env_int("DAILYPAPERS_TASK_MAX_ATTEMPTS", 3)

# arXiv politeness (design §3) and ingest scheduling.
ARXIV_CATEGORIES = env_list("DAILYPAPERS_ARXIV_CATEGORIES", "cs.CL,cs.LG,cs.AI,cs.CV")
ARXIV_CONTACT = env("DAILYPAPERS_ARXIV_CONTACT", "operator@example.org")
ARXIV_MIN_INTERVAL = float(env("DAILYPAPERS_ARXIV_MIN_INTERVAL", "3"))
# How long to keep asking while arXiv answers 429/503 with a Retry-After (ingest/http.py).
ARXIV_RETRY_FOR = float(env("DAILYPAPERS_ARXIV_RETRY_FOR", "1800"))
ARXIV_API_URL = env("DAILYPAPERS_ARXIV_API_URL", "https://export.arxiv.org/api/query")
ARXIV_OAI_URL = env("DAILYPAPERS_ARXIV_OAI_URL", "https://oaipmh.arxiv.org/oai")
ARXIV_RSS_URL = env("DAILYPAPERS_ARXIV_RSS_URL", "https://rss.arxiv.org/atom")
ARXIV_PDF_URL = env("DAILYPAPERS_ARXIV_PDF_URL", "https://arxiv.org/pdf/{id}v{version}")
# Thumbnails of featured papers (first PDF page), rendered by the worker: docs/pages.md.
THUMBNAILS = env_bool("DAILYPAPERS_THUMBNAILS", True)
# Several app servers: a folder they all see (or route /thumbnails/ to the worker's machine).
THUMBNAIL_DIR = Path(env("DAILYPAPERS_THUMBNAIL_DIR", str(DATA_DIR / "thumbnails"))).expanduser()
# Which freshly ingested papers are featured on the daily page by themselves: "none"
# (members curate), "all", or a comma list of categories (docs/operations.md).
AUTO_FEATURE = env("DAILYPAPERS_AUTO_FEATURE", "none")
# A server speaking the HF daily-papers API (https://huggingface.co, or another dailypapers)
# whose daily pages the scheduler imports every 6 hours; empty: no mirroring (docs/api.md).
MIRROR_URL = env("DAILYPAPERS_MIRROR_URL", "").strip()

# Members' limits.
SUBMISSIONS_PER_DAY = env_int("DAILYPAPERS_SUBMISSIONS_PER_DAY", 10)
VOTES_PER_HOUR = env_int("DAILYPAPERS_VOTES_PER_HOUR", 200)
SUBMIT_MAX_AGE_DAYS = env_int("DAILYPAPERS_SUBMIT_MAX_AGE_DAYS", 30)

# Discussions (docs/community.md)
COMMENTS_PER_HOUR = env_int("DAILYPAPERS_COMMENTS_PER_HOUR", 30)
COMMENT_VOTES_PER_HOUR = env_int("DAILYPAPERS_COMMENT_VOTES_PER_HOUR", 200)
COMMENT_REPORTS_PER_DAY = env_int("DAILYPAPERS_COMMENT_REPORTS_PER_DAY", 20)
COMMENT_REPORTS_TO_HIDE = env_int("DAILYPAPERS_COMMENT_REPORTS_TO_HIDE", 3)  # 0 = never
COMMENT_EDIT_MINUTES = env_int("DAILYPAPERS_COMMENT_EDIT_MINUTES", 30)
NEW_MEMBER_WAIT_HOURS = env_int("DAILYPAPERS_NEW_MEMBER_WAIT_HOURS", 24)

# Attempts per window (attempts, seconds; 0 attempts: no limit), counted per account or
# address and per client IP in the database (accounts/throttle.py, docs/security.md).
# Sign-in counts wrong passwords only; the others count every attempt.
SIGNIN_FAILURES = env_int("DAILYPAPERS_SIGNIN_FAILURES", 10)
SIGNIN_WINDOW = env_int("DAILYPAPERS_SIGNIN_WINDOW", 15 * 60)
THROTTLES = {
    "signin-account": (SIGNIN_FAILURES, SIGNIN_WINDOW),
    "signin-ip": (3 * SIGNIN_FAILURES, SIGNIN_WINDOW),  # a lab behind one NAT address
    "signup-ip": (10, 3600),
    "signup-address": (5, 3600),
    "reset-ip": (20, 3600),
    "reset-address": (5, 3600),
    "subscribe-ip": (20, 3600),
    "subscribe-address": (5, 3600),
}

# JSON API (docs/api.md): requests per minute per client IP and per token; read caching.
API_RATE_ANON = env_int("DAILYPAPERS_API_RATE_ANON", 120)
API_RATE_TOKEN = env_int("DAILYPAPERS_API_RATE_TOKEN", 600)
API_CACHE_MAX_AGE = env_int("DAILYPAPERS_API_CACHE_MAX_AGE", 60)
# Public pages kept for readers who are not signed in (caching/middleware.py): every change
# moves the key at once; this bounds only what time alone changes (trending scores' decay).
PAGE_CACHE_SECONDS = env_int("DAILYPAPERS_PAGE_CACHE_SECONDS", 300)

# Every process (web, workers, scheduler) logs to stderr, one line a record with its time
# and level: "2026-12-05T21:42:00+0000 WARNING dailypapers.workers...: ...".
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "timed": {
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
    },
    "filters": {"request_noise": {"()": "dailypapers.logs.RequestNoise"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "timed"}},
    "root": {"handlers": ["console"], "level": env("DAILYPAPERS_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # No line for each 429, nor a traceback for each 503 of a database outage.
        "django.request": {"filters": ["request_noise"]},
        # The scheduler logs every run of its 5-second lock refresh at INFO.
        "apscheduler": {"level": "WARNING"},
        # crontask's heartbeat task prints a line of ornaments every minute (a heartbeat
        # still queued; `dailypapers crontask` no longer schedules it).
        "crontask.tasks": {"level": "WARNING"},
    },
}

# `dailypapers backup`/`restore` on PostgreSQL run pg_dump/pg_restore from this folder
# (empty: from PATH); they must be of the server's major version or newer.
PG_BIN = env("DAILYPAPERS_PG_BIN", "")

# Search (docs/search.md): index files beside the database; the embedder ("static": the
# bundled offline model, "st:<sentence-transformers name or path>", or "none").
SEARCH_DIR = Path(env("DAILYPAPERS_SEARCH_DIR", str(DATA_DIR / "search")))
SEARCH_EMBEDDER = env("DAILYPAPERS_EMBEDDER", "static")
# Keyword engine: "auto" (PostgreSQL full-text on PostgreSQL, tantivy otherwise), "tantivy",
# or "tantivy-follow" (PostgreSQL: each machine's tantivy index follows the database).
SEARCH_ENGINE = env("DAILYPAPERS_SEARCH_ENGINE", "auto")
# Vector index: "auto" (pgvector HNSW on PostgreSQL with the extension, else in memory),
# "pgvector" or "memory".
SEARCH_VECTOR_INDEX = env("DAILYPAPERS_VECTOR_INDEX", "auto")
# Searches that run at once in a process (search/gate.py); 0: one per core.
SEARCH_CONCURRENCY = env_int("DAILYPAPERS_SEARCH_CONCURRENCY", 0)
