//! The request grammar under mutated and arbitrary input: the query string (and each of its
//! sub-grammars called directly, so a mutation reaches them without first passing the
//! decoder), `Prefer` and `Range`. Errors are answers; a panic fails the test with the
//! shrunk input. `PROPTEST_CASES` sets how many inputs (bench/fuzz.sh runs millions).
use tenancy_api::prefer::{parse_prefer, parse_range_header};
use tenancy_api::query_grammar::{parse_columns, parse_filter, parse_logic, parse_order, parse_query, parse_select};
use tenancy_e2e::fuzz;

/// Valid query strings covering the grammar: embeds with aliases, hints, joins and spreads,
/// casts and JSON paths, every operator family, quantifiers, logic trees, order, ranges,
/// columns, percent-encoding.
const QUERY_SEEDS: &[&str] = &[
    "select=*,id,full:name,age::text,%20n%20:%20%22my%20col%22%20::%20double%20precision%20",
    "select=id,clients(id,projects(name,tasks(*)))",
    "select=c:clients!fk_x(*),b!inner(*),d!fk!left(),e!left!%22my%20fk%22(id)",
    "select=title,...directors!inner(director:name,...studios(city))&directors.name=eq.x",
    "select=data->a->>b,data->0::int,json_col->>'k'",
    "select=id,c:clients!inner(name)&clients.name=ilike.*a*&or=(x.eq.1,y.is.true)&order=id.desc&limit=10&offset=20&x=1",
    "age=gt.1&age=lt.5&name=neq.bob&score=gte.3&score=lte.9",
    "name=like.*ab*&name=ilike.A*&code=match.%5Ea&code=imatch.B%24",
    "id=in.(1,2,3)&name=in.(%22a,b%22,c)&x=not.in.(4)&deleted=is.null&done=is.not_null&a=isdistinct.b",
    "tags=cs.{a,b}&tags=cd.{c}&range=ov.[1,5)&r=sl.(1,2)&r=sr.[3,4]&r=nxr.(,5)&r=nxl.(1,)&r=adj.(0,1)",
    "doc=fts(english).cat&doc=plfts.fat%20rat&doc=phfts(simple).a%20b&doc=wfts(german).%22a%22",
    "name=eq(any).{a,b}&age=gt(all).{1,2}&x=not.like(any).{*a,b*}",
    "or=(a.eq.1,%20and(b.gt.2,c.lt.3),not.and(d.eq.4,or(e.eq.5)))",
    "not.or=(a.eq.1)&and=(b.eq.2)&not.and=(c.eq.3)&clients.or=(d.eq.4)&clients.projects.not.and=(e.eq.5)",
    "or=(m.cs.{{1,2},{3}},n.in.(1,2),o.fts(english).x)",
    "order=name.desc,age,data->>k.asc.nullslast,%22x%20y%22.nullsfirst&clients.order=id.desc",
    "limit=10&offset=5&clients.limit=2&limit=20&clients.projects.offset=0",
    "columns=a,%20b,%22c%20d%22&on_conflict=id,tenant_id",
    "select=id%2Cname&na%6De=eq.a%20b+c&u=eq.%E2%9C%93&first+name=eq.x",
    "clients.projects.name=eq.x&data->>key=eq.y&clients.data->a->>0=gt.1&%22a.b%22=eq.z",
    "a=1&b=hello+world&c=eq&d=like(x)&e=EQ.1&f=foo.bar&g&h=eq.2",
    "select=name,messages(body,sent_at)&messages.order=sent_at.desc&messages.limit=3",
];

/// The grammar's own tokens, dropped into inputs at random places.
const QUERY_TOKENS: &[&str] = &[
    "&",
    "=",
    ".",
    ",",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "\\",
    ":",
    "::",
    "->",
    "->>",
    "!",
    "...",
    "*",
    "%",
    "%2C",
    "%22",
    "%28",
    "%E2%9C",
    "%zz",
    "+",
    "select=",
    "order=",
    "limit=",
    "offset=",
    "columns=",
    "on_conflict=",
    "or=(",
    "and=(",
    "not.",
    "eq.",
    "in.(",
    "is.",
    "cs.{",
    "fts(",
    "(any)",
    "(all)",
    "!inner",
    "!left",
    ".asc",
    ".desc",
    ".nullsfirst",
    "x.limit=",
    "a.b.order=",
    "null",
    "true",
    "0",
    "-1",
    "99999999999999999999",
    "é",
];

const PREFER_SEEDS: &[&str] = &[
    "return=representation, count=exact",
    "return=minimal,resolution=merge-duplicates,missing=default",
    "tx=rollback, handling=strict, max-affected=5, timezone=Europe/Paris",
    "count=planned,resolution=ignore-duplicates,return=headers-only",
];
const RANGE_SEEDS: &[&str] = &["0-9", "items=5-", "items=0-0", "10-20"];
const HEADER_TOKENS: &[&str] = &[
    ",",
    "=",
    "-",
    " ",
    "items=",
    "return=",
    "count=",
    "handling=strict",
    "max-affected=",
    "99999999999999999999",
    "-1",
];

/// Seeds of inputs that once failed, tried first (proptest writes them; commit them).
const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_grammar.proptest-regressions");

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn query_grammar_never_panics() {
    fuzz::run("query grammar", REGRESSIONS, fuzz::inputs(strings(QUERY_SEEDS), strings(QUERY_TOKENS)), |s| {
        let _ = parse_query(s);
        let _ = parse_select(s);
        let _ = parse_order(s);
        let _ = parse_logic("or", s);
        let _ = parse_filter("a", s);
        let _ = parse_filter(s, "eq.1");
        let _ = parse_columns("columns", s);
    });
}

#[test]
fn prefer_and_range_headers_never_panic() {
    let all_seeds = strings(&[PREFER_SEEDS, RANGE_SEEDS].concat());
    fuzz::run("Prefer and Range headers", REGRESSIONS, fuzz::inputs(all_seeds, strings(HEADER_TOKENS)), |s| {
        let _ = parse_prefer(&[s.as_str(), s.as_str()]);
        let _ = parse_range_header(s);
    });
}
