"""The request scope record() reads: never a query, only a user the request already loaded.
Pure: no database."""

from types import SimpleNamespace

import pytest
from django.utils.functional import SimpleLazyObject

from usage_stats.ingest.scope import RequestScope, normalise_method


class Request:
    """Attributes set on the instance, as Django's middleware sets them."""


def _request(**attrs) -> Request:
    request = Request()
    request.__dict__.update(attrs)
    return request


def _user(pk, authenticated=True):
    return SimpleNamespace(pk=pk, is_authenticated=authenticated)


def test_a_session_user_already_loaded_is_read():
    assert RequestScope("acme", _request(user=_user(7))).user_id() == 7


def test_an_api_token_user_is_read_from_request_auth():
    assert RequestScope("acme", _request(auth=_user(9))).user_id() == 9


def test_a_lazy_user_is_read_only_once_evaluated():
    loads = []

    def load():
        loads.append(1)
        return _user(5)

    lazy = SimpleLazyObject(load)
    scope = RequestScope("acme", _request(user=lazy))
    assert scope.user_id() is None, "an unevaluated user would cost the caller a query"
    assert loads == []
    assert lazy.pk == 5  # the view evaluates it
    assert scope.user_id() == 5
    assert loads == [1]


@pytest.mark.parametrize("user", [_user(3, authenticated=False), _user("3"), _user(None), None])
def test_anonymous_or_odd_users_give_no_id(user):
    assert RequestScope("acme", _request(user=user)).user_id() is None


@pytest.mark.parametrize(
    ("method", "expected"),
    [("GET", "GET"), ("PATCH", "PATCH"), ("get", "OTHER"), ("BREW", "OTHER"), (None, None)],
)
def test_unusual_http_methods_become_other(method, expected):
    assert normalise_method(method) == expected
