"""Development: `make dev` (runserver with autoreload). Debug defaults on; a throwaway secret is allowed.
`make run` uses saas.settings.local (DEBUG off, a generated secret)."""

from .environment import embedded_env_read

embedded_env_read()

from .base import *  # noqa: E402, F403
from .environment import env  # noqa: E402

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789")
