"""Settings for every environment, read from environment variables only.

A fresh clone runs with no variables at all: SQLite in the project folder, Celery over a
local file transport (no server), DEBUG on. Production sets DATABASE_URL, CELERY_BROKER_URL,
SECRET_KEY, ALLOWED_HOSTS and DEBUG=0; see .env.example for every variable.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("CRM_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-key-never-used-in-production-" + "x" * 24)
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
else:
    # Production must not start on a guessable key or an open host list.
    try:
        SECRET_KEY = env.str("SECRET_KEY")
        ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured("DEBUG=0 needs SECRET_KEY and ALLOWED_HOSTS to be set.") from exc
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must not be empty when DEBUG=0.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "accounts",
    "crm",
    "funnel",
    "scoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.locale.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "accounts.audit.AuditAddressMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Shared by every web process and the worker (rate limits, import progress): Redis in production,
# a folder under var/ for the embedded default.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded worker writes while the web process reads: WAL lets both proceed, and
    # IMMEDIATE transactions take the write lock up front instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Two indexes carry an INCLUDE column, a PostgreSQL speed-up for the weekly review; SQLite builds
# them without it, which is fine for the embedded mode, so its warning is not shown.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # counts failures; refuses locked accounts and addresses
    "django.contrib.auth.backends.ModelBackend",
]
# Lock an account, and separately an address, after repeated failures; unknown and known users
# get the same answer.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "funnel:my-work"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=8 * 3600)  # idle limit, see IdleSessionMiddleware
SESSION_TOUCH_EVERY_SECONDS = 300

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Content Security Policy: no inline or third-party scripts; styles may be inline (progress bars).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Lead scoring (scoring/conf.py holds the same defaults).
SCORING_MIN_CLOSED = env.int("SCORING_MIN_CLOSED", default=200)
SCORING_MIN_PER_OUTCOME = env.int("SCORING_MIN_PER_OUTCOME", default=20)
SCORING_BATCH_SIZE = env.int("SCORING_BATCH_SIZE", default=5000)
SCORING_ENGAGEMENT_WINDOW_DAYS = env.int("SCORING_ENGAGEMENT_WINDOW_DAYS", default=30)
SCORING_ENGAGEMENT_HALF_LIFE_DAYS = env.float("SCORING_ENGAGEMENT_HALF_LIFE_DAYS", default=15.0)
SCORING_MAX_TRAIN_ROWS = env.int("SCORING_MAX_TRAIN_ROWS", default=50000)
SCORING_CV_FOLDS = env.int("SCORING_CV_FOLDS", default=5)
SCORING_SWEEP_LOOKBACK_HOURS = env.int("SCORING_SWEEP_LOOKBACK_HOURS", default=48)
SCORING_TOP_FACTORS = env.int("SCORING_TOP_FACTORS", default=5)
SCORING_LARGE_DEAL_AMOUNT = env.int("SCORING_LARGE_DEAL_AMOUNT", default=500000)  # gets a risk assessment

# Receivables and commission (DOMAIN.md "Customers and receivables").
RECEIVABLES_DEFAULT_DUE_DAYS = env.int("RECEIVABLES_DEFAULT_DUE_DAYS", default=30)
RECEIVABLES_REMINDERS_BEFORE_SUSPENSION = env.int("RECEIVABLES_REMINDERS_BEFORE_SUSPENSION", default=3)
RECEIVABLES_REMINDER_INTERVAL_DAYS = env.int("RECEIVABLES_REMINDER_INTERVAL_DAYS", default=15)
COMMISSION_BASE_RATE_PERCENT = env.str("COMMISSION_BASE_RATE_PERCENT", default="3.00")
COMMISSION_LATE_PENALTY_POINTS = env.str("COMMISSION_LATE_PENALTY_POINTS", default="2")  # 1-5, checked at use
COLLECTION_CLOSING_DAY = env.int("COLLECTION_CLOSING_DAY", default=25)  # 1-28 so it runs every month
STRATEGIC_VISITS_PER_MONTH = env.int("STRATEGIC_VISITS_PER_MONTH", default=2)
STRATEGIC_VISIT_KINDS = env.list("STRATEGIC_VISIT_KINDS", default=["visit", "meeting", "demo"])

# Celery. Without CELERY_BROKER_URL the broker is a folder on disk: the worker and beat that
# `make run` starts need no server, and periodic jobs really run.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dirs = {name: VAR_DIR / "celery" / name for name in ("queue", "processed", "control")}
    for _folder in _broker_dirs.values():
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dirs["queue"]),
        "data_folder_out": str(_broker_dirs["queue"]),
        "processed_folder": str(_broker_dirs["processed"]),
        "control_folder": str(_broker_dirs["control"]),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves the message for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Flags are refreshed often so they clear soon after a rep follows up; the job writes
    # only rows whose flags change, so a run over an unchanged funnel is nearly free.
    "funnel-cadence-flags": {
        "task": "funnel.tasks.leads_flag_cadence_task",
        "schedule": env.float("CADENCE_FLAG_INTERVAL_SECONDS", default=3600.0),
    },
    "funnel-cadence-flags-daily": {
        "task": "funnel.tasks.leads_flag_cadence_task",
        "schedule": crontab(hour=6, minute=0),
    },
    "funnel-weekly-review-agendas": {
        "task": "funnel.tasks.review_agendas_build_task",
        "schedule": crontab(day_of_week=1, hour=8, minute=0),  # Monday 08:00 in TIME_ZONE
    },
    "funnel-review-rollups": {
        "task": "funnel.tasks.review_rollups_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "funnel-weekly-snapshots": {
        "task": "funnel.tasks.weekly_snapshots_task",
        "schedule": crontab(day_of_week=1, hour=0, minute=10),
    },
    "receivables-collection-close": {
        "task": "funnel.tasks_receivables.collection_month_close_task",
        "schedule": crontab(day_of_month=COLLECTION_CLOSING_DAY, hour=6, minute=0),
    },
    # A lost re-score task only delays a score: the sweep catches every lead whose inputs changed.
    "scoring-sweep-stale": {
        "task": "scoring.tasks.leads_rescore_stale_task",
        "schedule": env.float("SCORING_SWEEP_INTERVAL_SECONDS", default=60.0),
    },
    "scoring-recompute-nightly": {
        "task": "scoring.tasks.leads_rescore_all_task",
        "schedule": crontab(hour=3, minute=0),
    },
    "scoring-train-weekly": {
        "task": "scoring.tasks.scoring_model_train_task",
        "schedule": crontab(hour=2, minute=0, day_of_week=0),
    },
    "funnel-pool-auto-return": {
        "task": "funnel.tasks.leads_return_stale_task",
        "schedule": crontab(hour=5, minute=30),
    },
}

# The 1/15/30 rule (DOMAIN.md); configurable per deployment.
FOLLOW_UP_AFTER_DAYS = env.int("FOLLOW_UP_AFTER_DAYS", default=15)
VERDICT_AFTER_DAYS = env.int("VERDICT_AFTER_DAYS", default=30)

# The pool (公海): caps on claiming, the cool-down of abandoned leads, optional auto-return.
POOL_MAX_OPEN_LEADS = env.int("POOL_MAX_OPEN_LEADS", default=120)
POOL_MAX_CLAIMS_PER_DAY = env.int("POOL_MAX_CLAIMS_PER_DAY", default=10)
POOL_COOLDOWN_DAYS = env.int("POOL_COOLDOWN_DAYS", default=30)
POOL_AUTO_RETURN_DAYS = env.int("POOL_AUTO_RETURN_DAYS", default=0)  # 0: off

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["accounts.api.common.VisibilityFilterBackend", "rest_framework.filters.OrderingFilter"],
    "DEFAULT_PAGINATION_CLASS": "accounts.api.common.BoundedPagination",
    "EXCEPTION_HANDLER": "accounts.api.common.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "accounts.api.openapi.CrmAutoSchema",
    "DEFAULT_THROTTLE_RATES": {"auth": env.str("API_AUTH_RATE", default="10/min")},
    "COERCE_DECIMAL_TO_STRING": True,  # money stays exact on the wire
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Funnel CRM API",
    "DESCRIPTION": "Leads, customers, visits and stage moves with the same visibility as the pages.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],  # the shape of the API is no secret
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "intakeKey": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "`Api-Key <key>`"}
        }
    },
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "crm.choices.Stage",
        "BuyingRoleEnum": "crm.choices.BuyingRole",
        "UserRoleEnum": "accounts.models.Role",
        "GradeEnum": "crm.choices.Grade",
        "SourceEnum": "crm.choices.Source",
        "ConfidenceEnum": "crm.choices.Confidence",
    },
}

WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)  # only for hooks inside your network

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))  # for the file-based backend
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
