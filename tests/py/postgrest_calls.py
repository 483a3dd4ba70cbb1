# postgrest-py, unmodified: the calls its README teaches, against one tenant's hrms tables.
# Input (stdin): {"url", "token"}. Output (last line): each call's {data, count, error} by name.
import json
import sys

from postgrest import APIError, CountMethod, SyncPostgrestClient

given = json.load(sys.stdin)
db = SyncPostgrestClient(given["url"], schema="hrms", headers={"Authorization": f"Bearer {given['token']}"})
employees = lambda: db.from_("employees")  # noqa: E731
seen = {}


def call(name, query):
    try:
        response = query.execute()
        seen[name] = {"data": None if response is None else response.data,
                      "count": None if response is None else response.count, "error": None}
    except APIError as e:
        seen[name] = {"data": None, "count": None, "error": {"code": e.code, "message": e.message}}


call("select", employees().select("first_name,salary").order("salary"))
call("filters", employees().select("first_name").gte("salary", 3000).like("job_title", "eng%")
     .in_("first_name", ["First4", "First6", "First9"]).or_("salary.gt.5000,first_name.eq.First4").order("first_name"))
call("embed", db.from_("departments").select("name, employees(first_name)").order("name")
     .order("first_name", foreign_table="employees"))
call("single", employees().select("first_name").eq("first_name", "First1").single())
call("single_of_many", employees().select("first_name").single())
call("maybe_single_none", employees().select("first_name").eq("first_name", "nobody").maybe_single())
call("count_range", employees().select("first_name", count=CountMethod.exact).order("salary").range(1, 2))
call("head_count", employees().select("*", count=CountMethod.exact, head=True))
call("insert", employees().insert({"first_name": "New", "last_name": "Hire", "email": "new@x.example", "salary": 500}))
call("update", employees().update({"salary": 600}).eq("email", "new@x.example"))
call("upsert", employees().upsert({"first_name": "First1", "last_name": "Last1", "email": "e1@x.example", "salary": 1234},
                                  on_conflict="tenant_id,email"))
call("delete", employees().delete().eq("email", "new@x.example"))
call("rpc", db.rpc("headcount", {}))
call("rpc_get", db.rpc("hired_since", {"since": "2000-01-01"}, get=True).select("first_name").order("first_name").limit(2))
call("csv", employees().select("first_name,salary").order("salary").limit(2).csv())
call("error", employees().select("no_such_column"))


def plain(value):
    """A JSON number as the server wrote it: Python reads 1000.00 as 1000.0, JSON has one number."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


print(json.dumps(plain(seen)))
