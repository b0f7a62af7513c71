"""The one `env` every settings module reads (django-environ), and the project root."""

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
