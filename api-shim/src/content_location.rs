//! `Content-Location` of a read, as PostgREST sends it: the relation's path and the query string
//! in canonical form (parameters sorted by name, values of a repeated name joined by commas,
//! every byte but letters, digits and `-_.~` percent-encoded), so equal queries name one URL.
use axum::http::HeaderValue;

pub fn content_location(relation: &str, query: Option<&str>) -> Option<HeaderValue> {
    let canonical = canonical(query.unwrap_or(""));
    let location = match canonical.is_empty() {
        true => format!("/{relation}"),
        false => format!("/{relation}?{canonical}"),
    };
    HeaderValue::from_str(&location).ok()
}

fn canonical(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    // Stable: a repeated name keeps its values' order.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<String> = vec![];
    let mut previous: Option<&str> = None;
    for (name, value) in &pairs {
        match previous == Some(name.as_str()) {
            true => {
                let last = out.last_mut().expect("the name's first pair");
                last.push(',');
                last.push_str(&encode(value));
            }
            false => out.push(format!("{}={}", encode(name), encode(value))),
        }
        previous = Some(name);
    }
    out.join("&")
}

/// Every byte but ASCII letters, digits and `-_.~` as `%XX` (a URL's query part or path).
pub fn encode(text: &str) -> String {
    text.bytes().fold(String::new(), |mut out, b| {
        match b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            true => out.push(b as char),
            false => out.push_str(&format!("%{b:02X}")),
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_like_postgrest() {
        assert_eq!(canonical("a=1&c=3&b=2&d"), "a=1&b=2&c=3&d=");
        assert_eq!(canonical("b=eq.1&a=eq.1"), "a=eq.1&b=eq.1");
        assert_eq!(canonical("select=id,name&id=in.(1,2)"), "id=in.%281%2C2%29&select=id%2Cname");
        assert_eq!(canonical("x=2&a=1&x=1"), "a=1&x=2,1");
        assert_eq!(canonical("q=a+b%20c"), "q=a%20b%20c");
        assert_eq!(canonical(""), "");
    }

    #[test]
    fn location_without_a_query_has_no_question_mark() {
        assert_eq!(content_location("simple_pk", None).unwrap(), "/simple_pk");
        assert_eq!(content_location("no_pk", Some("b=eq.1&a=eq.1")).unwrap(), "/no_pk?a=eq.1&b=eq.1");
    }
}
