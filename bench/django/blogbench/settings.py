"""Settings of the Django blog the peer benchmark measures.

The database is the SQLite file named by BENCH_DB, opened with the settings a production Django
site on SQLite uses (WAL, synchronous=NORMAL, memory-mapped I/O, a larger page cache, in-memory
temporary tables, persistent connections), so that the peers are measured at their best.
BENCH_PEER (strawberry or graphene) picks the GraphQL server mounted at /graphql/.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "benchmark-project-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PEER = os.environ.get("BENCH_PEER", "")
INSTALLED_APPS = ["blog"]
if PEER == "strawberry":
    INSTALLED_APPS.append("strawberry_django")
elif PEER == "graphene":
    INSTALLED_APPS.append("graphene_django")
    GRAPHENE = {"SCHEMA": "blog.graphene_api.schema"}

MIDDLEWARE = []
ROOT_URLCONF = "blogbench.urls"
WSGI_APPLICATION = "blogbench.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DB", str(BASE_DIR / "blog.db")),
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; "
                "PRAGMA mmap_size=134217728; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
            ),
        },
    }
}
