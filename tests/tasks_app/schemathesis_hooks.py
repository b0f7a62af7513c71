"""schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by test_api_schemathesis.py).

`assignee_id` must name a person of the organisation, which a schema cannot express:
just before each request, any well-formed id is replaced with a real person's, so
"valid data is accepted" stays a strict check. Malformed ids (wrong type, out of
range) are left alone and must still be rejected.
"""

import os

import schemathesis

ASSIGNEE_ID = int(os.environ.get("TASKHIVE_FUZZ_ASSIGNEE_ID", "1"))
MAX_ID = 2**63 - 1


@schemathesis.hook
def before_call(context, case, kwargs):
    body = case.body
    if isinstance(body, dict):
        value = body.get("assignee_id")
        # A JSON integer in range (1.0 is one, as JSON Schema says); booleans are not.
        if type(value) in (int, float) and float(value).is_integer() and 1 <= value <= MAX_ID:
            body["assignee_id"] = ASSIGNEE_ID
