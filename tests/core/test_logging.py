"""Every log record of a request carries its request ID and tenant."""

import io
import json
import logging
import threading

from core.logging import JsonFormatter, RequestContextFilter, current_request


def _capture(logger_name: str) -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    logging.getLogger(logger_name).addHandler(handler)
    return handler, stream


def test_request_log_lines_carry_request_id_and_tenant(acme):
    handler, stream = _capture("django.request")
    try:
        response = acme.client().get("/no-such-page/")
    finally:
        logging.getLogger("django.request").removeHandler(handler)
    assert response.status_code == 404
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert entries, "Django logs every 404 on django.request"
    assert entries[-1]["request_id"] == response["X-Request-ID"]
    assert entries[-1]["tenant"] == "acme"
    assert entries[-1]["level"] == "WARNING"


def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(acme):
    kept = acme.client().get("/accounts/login/", HTTP_X_REQUEST_ID="lb-1234abcd")
    assert kept["X-Request-ID"] == "lb-1234abcd"
    hostile = acme.client().get("/accounts/login/", HTTP_X_REQUEST_ID="x\r\nSet-Cookie: a=b")
    assert hostile["X-Request-ID"] != "x\r\nSet-Cookie: a=b"
    assert len(hostile["X-Request-ID"]) == 32
    assert hostile.status_code == 200


def test_context_is_cleared_after_the_request_and_not_inherited_by_threads(acme):
    acme.client().get("/accounts/login/")
    assert current_request.get() is None
    seen = []
    token = current_request.set(object())
    try:
        thread = threading.Thread(target=lambda: seen.append(current_request.get()))
        thread.start()
        thread.join()
    finally:
        current_request.reset(token)
    assert seen == [None]
