//! `Accept`: the media types a request asks for, in its order, and the first one the answer
//! can be: JSON (an array), PostgREST's single object, CSV; or, from a function returning a
//! domain named like a media type (`"text/plain"`), its value as is (PostgREST's handlers).
use crate::error::ApiError;
use crate::sql_builder::Media;

#[derive(Debug, Clone, Default)]
pub struct Accept {
    /// The types without their parameters, lower-cased; none without the header.
    types: Vec<String>,
    /// The header, for the refusal.
    header: Option<String>,
}

/// What a function's answer is.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Rows or a value in JSON, or CSV.
    Built(Media),
    /// The value as it is, with this `Content-Type`.
    Raw(String),
}

impl Accept {
    pub fn parse(header: Option<&str>) -> Accept {
        let types = header.map_or(vec![], |h| {
            h.split(',').map(|m| m.split(';').next().unwrap_or("").trim().to_ascii_lowercase()).collect()
        });
        Accept { types, header: header.map(str::to_string) }
    }

    /// The first type asked for that every resource can be.
    pub fn media(&self) -> Result<Media, ApiError> {
        if self.types.is_empty() {
            return Ok(Media::Json);
        }
        self.types.iter().find_map(|t| built(t)).ok_or_else(|| self.refused())
    }

    /// For a function whose value is of the domain `media_type`: that domain's answer where it
    /// is asked for before any other (`"*/*"` always), else as `media`.
    pub fn for_function(&self, media_type: Option<&str>) -> Result<Answer, ApiError> {
        let Some(own) = media_type else { return self.media().map(Answer::Built) };
        if own == "*/*" {
            return Ok(Answer::Raw("application/octet-stream".into()));
        }
        for asked in &self.types {
            if asked == own {
                return Ok(Answer::Raw(content_type(own)));
            }
            if let Some(media) = built(asked) {
                return Ok(Answer::Built(media));
            }
        }
        self.media().map(Answer::Built)
    }

    fn refused(&self) -> ApiError {
        ApiError::UnacceptableMedia(self.header.clone().unwrap_or_default())
    }
}

fn built(media: &str) -> Option<Media> {
    match media {
        "application/json" | "*/*" | "application/*" | "" => Some(Media::Json),
        "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => Some(Media::Object),
        "text/csv" | "text/*" => Some(Media::Csv),
        _ => None,
    }
}

/// As PostgREST labels them: the types it knows (text ones) with their charset, others as named.
fn content_type(media: &str) -> String {
    match media {
        "text/plain" | "text/xml" | "text/html" | "application/xml" => format!("{media}; charset=utf-8"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(header: Option<&str>) -> Result<Media, ApiError> {
        Accept::parse(header).media()
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(media(None).unwrap(), Media::Json);
        assert_eq!(media(Some("text/html, application/json;q=0.9")).unwrap(), Media::Json);
        assert_eq!(media(Some("application/vnd.pgrst.object+json")).unwrap(), Media::Object);
        assert_eq!(media(Some("text/csv")).unwrap(), Media::Csv);
        assert!(matches!(media(Some("image/png")), Err(ApiError::UnacceptableMedia(_))));
    }

    #[test]
    fn a_function_of_a_media_type_answers_it_where_asked_first() {
        let answer = |header: &str, own: Option<&str>| Accept::parse(Some(header)).for_function(own);
        assert_eq!(answer("text/plain", Some("text/plain")).unwrap(), Answer::Raw("text/plain; charset=utf-8".into()));
        assert_eq!(answer("text/special", Some("text/special")).unwrap(), Answer::Raw("text/special".into()));
        assert_eq!(answer("application/json, text/plain", Some("text/plain")).unwrap(), Answer::Built(Media::Json));
        assert_eq!(answer("*/*", Some("text/plain")).unwrap(), Answer::Built(Media::Json));
        assert_eq!(answer("text/csv", Some("*/*")).unwrap(), Answer::Raw("application/octet-stream".into()));
        assert!(matches!(answer("text/plain", None), Err(ApiError::UnacceptableMedia(_))));
        assert!(matches!(answer("text/xml", Some("text/plain")), Err(ApiError::UnacceptableMedia(_))));
    }
}
