"""Mail (docs/accounts.md): SMTP from EMAIL_URL, sent by a background job (core.tasks.mail_send).

Development and tests read EMAIL_URL from .data/mail.env, written by scripts/mail.sh for the
local mail sink that keeps every message as an .eml file under .data/mail/. Production
requires EMAIL_URL (saas/settings/production.py).
"""

from .environment import env

# django-environ's email URL: smtp://user:password@host:587 (STARTTLS: smtp+tls://, TLS: smtp+ssl://).
EMAIL_URL = env.str("EMAIL_URL", default="smtp://127.0.0.1:2525")
vars().update({k: "" if v is None else v for k, v in env.email_url_config(EMAIL_URL).items()})
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_S", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Taskhive <no-reply@taskhive.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Links in mails: password reset (Django's token, single-use: it changes with the password),
# invitations and address verification (signed, with a nonce stored beside them).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_S", default=3600)
INVITATION_MAX_AGE_S = env.int("INVITATION_MAX_AGE_S", default=7 * 86_400)
EMAIL_VERIFICATION_MAX_AGE_S = env.int("EMAIL_VERIFICATION_MAX_AGE_S", default=3 * 86_400)

# Requests that send mail (password reset, find my organisation), per address and per
# client IP (accounts/throttle/rates.py), within ACCOUNT_MAIL_THROTTLE_WINDOW_S.
ACCOUNT_MAIL_THROTTLE_PER_EMAIL = env.int("ACCOUNT_MAIL_THROTTLE_PER_EMAIL", default=3)
ACCOUNT_MAIL_THROTTLE_PER_IP = env.int("ACCOUNT_MAIL_THROTTLE_PER_IP", default=20)
ACCOUNT_MAIL_THROTTLE_WINDOW_S = env.int("ACCOUNT_MAIL_THROTTLE_WINDOW_S", default=3600)

# Sign-ups (tenants/views.py via accounts/throttle/rates.py), per client IP and per owner email.
SIGNUP_THROTTLE_PER_IP = env.int("SIGNUP_THROTTLE_PER_IP", default=10)
SIGNUP_THROTTLE_PER_EMAIL = env.int("SIGNUP_THROTTLE_PER_EMAIL", default=5)
SIGNUP_THROTTLE_WINDOW_S = env.int("SIGNUP_THROTTLE_WINDOW_S", default=3600)
# The one-time hand-off that signs a new owner in on their subdomain is valid this long.
SIGNUP_HANDOFF_MAX_AGE_S = env.int("SIGNUP_HANDOFF_MAX_AGE_S", default=30)
