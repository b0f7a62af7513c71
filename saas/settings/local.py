"""`make run`: the product as a new user meets it, on this machine.

Like production where it shows: DEBUG off (error pages are the app's own, never Django's
technical pages), a real secret (generated once into .data/secret_key, see
environment.local_secret_key), static files served by whitenoise from gunicorn. Unlike
production: the embedded PostgreSQL and Redis (.data/db.env, .data/redis.env), plain
HTTP on loopback, plain log lines. `make dev` uses saas.settings.dev instead (DEBUG on,
autoreload).
"""

from .environment import embedded_env_read, local_secret_key

embedded_env_read()

from .base import *  # noqa: E402, F403
from .environment import env  # noqa: E402

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key()
