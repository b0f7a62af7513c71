"""Production settings: `check --deploy` is clean, and the isolation settings are enforced."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from core.deploy_checks import tenant_isolation_settings_check

ROOT = Path(__file__).resolve().parents[2]


def _production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECURE_HSTS_PRELOAD", "LOG_FORMAT")}
    env.update(DJANGO_SETTINGS_MODULE="saas.settings.production", SECRET_KEY=secrets.token_urlsafe(64))
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6380/0")  # checks and log lines need no broker
    env.setdefault("EMAIL_URL", "smtp://127.0.0.1:2525")  # nor a mail server
    env.update(extra)
    return env


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_real_secret_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_production_env(SECRET_KEY="change-me"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL", "EMAIL_URL"])
def test_production_names_what_is_missing_in_one_line(missing):
    env = _production_env()
    env.pop(missing, None)
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"Configuration error: {missing} "
        + {
            "DATABASE_URL": "must be set in production (docs/operations.md).",
            "REDIS_URL": "(the job broker) must be set in production (docs/jobs.md).",
            "EMAIL_URL": "(SMTP for password resets and invitations) must be set in production "
            "(docs/accounts.md).",
        }[missing]
    )
    assert "Traceback" not in result.stderr


def test_production_logs_are_json_lines():
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('taskhive.test').warning('hello %s', 'world', extra={'order_id': 7})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hello world"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "taskhive.test"
    assert entry["request_id"] == "-"
    assert entry["tenant"] == "-"
    assert entry["order_id"] == 7


@pytest.mark.parametrize(
    ("overrides", "check_id"),
    [
        ({"SESSION_COOKIE_DOMAIN": ".localhost"}, "core.E001"),
        ({"CSRF_COOKIE_DOMAIN": ".localhost"}, "core.E001"),
        ({"USE_X_FORWARDED_HOST": True}, "core.E002"),
        ({"CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}}, "core.E003"),
    ],
)
def test_deploy_check_rejects_settings_that_share_state_between_tenants(overrides, check_id):
    with override_settings(**overrides):
        ids = [message.id for message in tenant_isolation_settings_check(None)]
    assert ids == [check_id]


def test_deploy_check_accepts_the_shipped_settings():
    assert tenant_isolation_settings_check(None) == []
