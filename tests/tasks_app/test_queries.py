from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.factories import make_person, make_task, unique


def _queries_for(client, **params) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/", params)
    assert response.status_code == 200
    return len(response.context["page"].tasks), len(captured), [q["sql"] for q in captured]


def test_task_list_query_count_does_not_grow_with_page_size(acme):
    """No N+1: the list page's queries are the same for 10 rows and for 100."""
    mark = unique("nplus1")
    people = [make_person(acme, full_name=f"Person {i}") for i in range(5)]
    for i in range(100):
        make_task(acme, title=f"{mark} {i}", assignee=people[i % 5], due_date="2030-01-01", description="d")
    client = acme.login()

    counts = {}
    for per_page in (10, 25, 50, 100):
        rows, queries, sql = _queries_for(client, q=mark, status="all", per_page=per_page)
        assert rows == per_page
        counts[per_page] = queries
    assert len(set(counts.values())) == 1, counts
    # Tenant routing, session, user, people for the filter, the count and one page of
    # tasks joined to their assignees.
    assert counts[100] <= 10, sql
    assert sum("accounts_user" in s and "tasks_app_task" not in s for s in sql) <= 2, sql
