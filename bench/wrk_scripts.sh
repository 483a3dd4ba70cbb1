# wrk's request scripts for the reference workload (bench/dataset.sh): read.lua (50 rows of one
# tenant by category), read_by_tenant.lua (the same, naming the tenant in a filter too, as Citus
# needs to send it to one shard) and write.lua (one row, return=minimal), each request with the
# token of a random tenant. Sourced after scripts/env.sh; the tenant ids are read with psql.
wrk_scripts() { # directory, database
local dir=$1 db=$2
local ids; ids=$(psql -X -Atd "$db" -c "SELECT id FROM bench.tenant_numbers ORDER BY n")
{
    echo "tokens = {"
    for id in $ids; do
        printf '"%s",\n' "$("$ROOT/target/release/tenancy-api" token "$id" bench_reader)"
    done
    echo "}"
    echo "tenants = {"
    printf '"%s",\n' $ids
    echo "}"
} >"$dir/tokens.lua"
cat "$dir/tokens.lua" - >"$dir/read.lua" <<'LUA'
request = function()
    local path = "/items?select=id,title,amount&category=eq." .. math.random(0, 9) .. "&order=id&limit=50"
    return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
                                      ["Accept-Profile"] = "bench" })
end
LUA
cat "$dir/tokens.lua" - >"$dir/read_by_tenant.lua" <<'LUA'
request = function()
    local i = math.random(#tokens)
    local path = "/items?select=id,title,amount&tenant_id=eq." .. tenants[i] .. "&category=eq." .. math.random(0, 9)
                 .. "&order=id&limit=50"
    return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[i], ["Accept-Profile"] = "bench" })
end
LUA
cat "$dir/tokens.lua" - >"$dir/write.lua" <<'LUA'
-- each wrk thread its own random sequence, and ids from a space where collisions are negligible
init = function(args)
    math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
end
request = function()
    local id = 1000000000000 + math.random(0, 999999999) * 1000 + math.random(0, 999)
    local body = '{"id": ' .. id .. ', "category": ' .. math.random(0, 9) .. ', "title": "new", "amount": 1}'
    return wrk.format("POST", "/items", { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
                                           ["Content-Profile"] = "bench", ["Content-Type"] = "application/json",
                                           ["Prefer"] = "return=minimal" }, body)
end
LUA
}

# pgbench's side of P1's write: the row write.lua posts, in the RLS transaction (5 statements),
# after the script's \set lines for :t, :id and :category.
pgbench_write() {
cat <<'SQL'
BEGIN;
SELECT tenancy.enter_tenant(id) FROM bench.tenant_numbers WHERE n = :t;
SET LOCAL ROLE bench_reader;
INSERT INTO bench.items (id, category, title, amount) VALUES (:id, :category, 'new', 1);
COMMIT;
SQL
}
