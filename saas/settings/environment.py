"""The one `env` every settings module reads (django-environ), and the project root."""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# `make run`/`make test` start an embedded cluster and write its URLs here.
EMBEDDED_ENV_FILE = BASE_DIR / ".data" / "db.env"
# ...and an embedded Redis (scripts/redis.sh), which writes REDIS_URL here.
EMBEDDED_REDIS_ENV_FILE = BASE_DIR / ".data" / "redis.env"
# ...and the local mail sink (scripts/mail.sh), which writes EMAIL_URL here.
EMBEDDED_MAIL_ENV_FILE = BASE_DIR / ".data" / "mail.env"


def embedded_env_read() -> None:
    """Development and tests only: take DATABASE_URL and friends from the embedded
    cluster's file, so manage.py works by hand after `make run`. Real environment
    variables always win. Production settings never call this."""
    for path in (EMBEDDED_ENV_FILE, EMBEDDED_REDIS_ENV_FILE, EMBEDDED_MAIL_ENV_FILE):
        if path.exists():
            env.read_env(str(path), overwrite=False)


# `make run` keeps its generated secret here (saas/settings/local.py); never committed.
LOCAL_SECRET_KEY_FILE = BASE_DIR / ".data" / "secret_key"


def local_secret_key() -> str:
    """The secret of this machine's `make run`: read from .data/secret_key, generated there
    (random, 64 bytes, mode 0600) the first time. Sessions survive restarts; no two
    checkouts share a key; nothing secret is in the repository."""
    import secrets

    path = LOCAL_SECRET_KEY_FILE
    if path.exists():
        key = path.read_text().strip()
        if len(key) >= 50:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
