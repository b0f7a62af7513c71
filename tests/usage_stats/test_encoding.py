"""COPY encoding and validation of queued events: pure, no database."""

import uuid

import pytest

from usage_stats.ingest.encoding import (
    NULL,
    InvalidEvent,
    LineEncoder,
    copy_escape,
    properties_field,
    queued_event,
)
from usage_stats.ingest.sql import EVENT_COLUMNS, MAX_PROPERTIES_BYTES

TS = 1_700_000_000.25  # 2023-11-14 22:13:20.25 UTC


def _fields(**fields) -> list[str]:
    line = LineEncoder().line(queued_event(fields.pop("event", "e"), ts=TS, **fields))
    assert line.endswith(b"\n")
    return line[:-1].decode().split("\t")


def _column(name: str, **fields) -> str:
    return _fields(**fields)[EVENT_COLUMNS.index(name)]


def test_a_line_has_one_field_per_column_and_nulls_for_missing_values():
    fields = _fields(event="task.created", tenant_id=uuid.UUID("5b0c9d3e-8a1f-4c2b-9d7e-6f1a2b3c4d5e"))
    assert len(fields) == len(EVENT_COLUMNS)
    row = dict(zip(EVENT_COLUMNS, fields, strict=True))
    assert row["occurred_at"] == "2023-11-14 22:13:20.250000+00"
    assert (row["tenant_id"], row["event"]) == ("5b0c9d3e-8a1f-4c2b-9d7e-6f1a2b3c4d5e", "task.created")
    assert [
        row[c] for c in ("route", "method", "user_id", "status", "latency_ms", "tokens", "properties")
    ] == [NULL] * 7


def test_event_ids_are_version_8_uuids_unique_per_line_and_per_process():
    encoder = LineEncoder()
    ids = [uuid.UUID(encoder.line(queued_event("e", ts=TS)).split(b"\t")[0].decode()) for _ in range(3)]
    assert len(set(ids)) == 3
    assert {i.version for i in ids} == {8}
    assert {i.variant for i in ids} == {uuid.RFC_4122}
    encoder.new_process()
    forked = uuid.UUID(encoder.line(queued_event("e", ts=TS)).split(b"\t")[0].decode())
    assert forked.hex[:16] != ids[0].hex[:16]


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain", "plain"),
        ("back\\slash", "back\\\\slash"),
        ("tab\there", "tab\\there"),
        ("new\nline", "new\\nline"),
        ("carriage\rreturn", "carriage\\rreturn"),
        ("\\N", "\\\\N"),  # the text "\N", never a NULL
        ("ünïcødé ✓ 🚀", "ünïcødé ✓ 🚀"),
    ],
)
def test_copy_text_escapes_backslash_tab_newline_and_carriage_return(raw, escaped):
    assert copy_escape(raw) == escaped
    assert _column("route", route=raw) == escaped


@pytest.mark.parametrize(
    "fields",
    [
        {"route": "nul\x00byte"},
        {"event": "nul\x00"},
        {"properties": {"nul": "a\x00b"}},
        {"properties": {"nul\x00key": 1}},
    ],
)
def test_nul_is_refused_in_text_and_json(fields):
    with pytest.raises(InvalidEvent):
        _fields(**fields)


@pytest.mark.parametrize(
    "fields",
    [{"route": "lone \ud800 surrogate"}, {"tenant_id": "\udfff"}, {"properties": {"s": "\ud83d"}}],
)
def test_lone_surrogates_are_refused_and_not_cached(fields):
    encoder = LineEncoder()
    item = queued_event("e", ts=TS, **fields)
    with pytest.raises(InvalidEvent):
        encoder.line(item)
    with pytest.raises(InvalidEvent):
        encoder.line(item)  # the second time too: a refused label run is never cached
    assert encoder.line(queued_event("e", ts=TS, tenant_id="5b0c9d3e-8a1f-4c2b-9d7e-6f1a2b3c4d5e"))


@pytest.mark.parametrize(
    "fields",
    [
        {"user_id": True},
        {"user_id": "1"},
        {"user_id": 2**63},
        {"status": "200"},
        {"status": 32768},
        {"status": -1},
        {"tokens": 2**31},
        {"tokens": 1.5},
        {"tenant_id": None},
        {"tenant_id": "t" * 64},
        {"tenant_id": "acme"},
        {"tenant_id": 7},
        {"event": ""},
        {"event": "e" * 65},
        {"method": "m" * 11},
        {"route": 42},
    ],
)
def test_bad_ints_and_texts_are_refused(fields):
    with pytest.raises(InvalidEvent):
        _fields(**fields)


def test_ints_at_their_bounds_are_kept():
    fields = dict(
        zip(EVENT_COLUMNS, _fields(user_id=-(2**63) + 1, status=32767, tokens=2**31 - 1), strict=True)
    )
    assert (fields["user_id"], fields["status"], fields["tokens"]) == (
        str(-(2**63) + 1),
        "32767",
        str(2**31 - 1),
    )


@pytest.mark.parametrize("latency", [float("nan"), float("inf"), -1, 1e9, "12", True])
def test_bad_latencies_are_refused(latency):
    with pytest.raises(InvalidEvent):
        _fields(latency_ms=latency)


@pytest.mark.parametrize(
    ("latency", "text"), [(0, "0.0"), (12, "12.0"), (3.25, "3.25"), (999_999_999.5, "999999999.5")]
)
def test_latencies_are_written_as_floats(latency, text):
    assert _column("latency_ms", latency_ms=latency) == text


def test_properties_are_compact_json_escaped_for_copy():
    assert _column("properties", properties={"a": [1, "x\ty"], "ü": None}) == '{"a":[1,"x\\\\ty"],"ü":null}'


def test_properties_limit_is_inclusive():
    filler = "p" * (MAX_PROPERTIES_BYTES - len('{"k":""}'))
    assert len(properties_field({"k": filler})) == MAX_PROPERTIES_BYTES
    with pytest.raises(InvalidEvent):
        properties_field({"k": filler + "p"})


@pytest.mark.parametrize("properties", [["not", "a", "dict"], {"nan": float("nan")}, {"obj": object()}, "{}"])
def test_properties_that_are_not_a_json_object_are_refused(properties):
    with pytest.raises(InvalidEvent):
        properties_field(properties)


def test_deeply_nested_properties_are_refused_not_crashing():
    deep: dict = {}
    for _ in range(100_000):
        deep = {"d": deep}
    with pytest.raises(InvalidEvent):
        properties_field(deep)


def test_a_tenant_id_is_stored_in_its_canonical_text_form():
    assert (
        _column("tenant_id", tenant_id="5B0C9D3E8A1F4C2B9D7E6F1A2B3C4D5E")
        == "5b0c9d3e-8a1f-4c2b-9d7e-6f1a2b3c4d5e"
    )


def test_lines_leaves_out_invalid_events_and_counts_them():
    items = [
        queued_event("ok", ts=TS),
        queued_event("bad", ts=TS, status="x"),
        queued_event(None, ts=TS),
        queued_event("ok", ts=TS, tenant_id=["unhashable"]),
        queued_event("ok2", ts=TS),
    ]
    lines, invalid = LineEncoder().lines(items)
    assert invalid == 3
    assert [line.split(b"\t")[3] for line in lines] == [b"ok", b"ok2"]
