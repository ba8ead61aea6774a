//! Which recorded requests are the application's: a rehearsal replays what the platform
//! serves, not the CDN's stylesheets, the fonts, the analytics beacons or other sites.
//!
//! Decided in this order: `--exclude` drops, `--include` keeps (overriding what follows),
//! another origin than the application's drops, then Chrome's `_resourceType` when the HAR
//! has it (document, xhr and fetch are the application), else the path's extension and the
//! response's content type.

use regex::Regex;

use crate::import::har::Exchange;

/// What the user asked to keep or leave out.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `scheme://host[:port]` of the application; default: the first document request's.
    pub origin: Option<String>,
    pub include: Vec<Regex>,
    pub exclude: Vec<Regex>,
}

/// Why a request was left out, for the importer's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Left {
    Excluded,
    OtherOrigin,
    Static,
    Font,
    Media,
    Analytics,
}

impl Left {
    pub fn describe(self) -> &'static str {
        match self {
            Left::Excluded => "matched --exclude",
            Left::OtherOrigin => "other origins (CDN, third parties)",
            Left::Static => "static assets (scripts, stylesheets, images)",
            Left::Font => "fonts",
            Left::Media => "media",
            Left::Analytics => "analytics and beacons",
        }
    }
}

const STATIC_EXTENSIONS: [&str; 14] =
    ["js", "mjs", "css", "map", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif", "bmp", "webmanifest"];
const FONT_EXTENSIONS: [&str; 5] = ["woff", "woff2", "ttf", "otf", "eot"];
const MEDIA_EXTENSIONS: [&str; 6] = ["mp4", "webm", "mp3", "ogg", "wav", "m3u8"];

/// Paths that are analytics even on the application's own origin.
const ANALYTICS_PATHS: [&str; 6] = ["/collect", "/analytics", "/beacon", "/matomo.php", "/piwik.php", "/gtag/"];

impl Filter {
    /// The application's origin: the one asked for, else the first document (or the first
    /// request, when nothing is marked as a document).
    pub fn origin_of(&self, exchanges: &[Exchange]) -> Option<String> {
        if let Some(origin) = &self.origin {
            return Some(origin.trim_end_matches('/').to_string());
        }
        let first_document = exchanges.iter().find(|e| e.resource_type.as_deref() == Some("document"));
        first_document.or(exchanges.first()).map(|e| e.url.origin().ascii_serialization())
    }

    /// `Ok(())` when the exchange is a step of the journey, else why it is left out.
    pub fn keep(&self, exchange: &Exchange, origin: &str) -> Result<(), Left> {
        let url = exchange.url.as_str();
        if self.exclude.iter().any(|r| r.is_match(url)) {
            return Err(Left::Excluded);
        }
        if self.include.iter().any(|r| r.is_match(url)) {
            return Ok(());
        }
        if exchange.url.origin().ascii_serialization() != origin {
            return Err(Left::OtherOrigin);
        }
        let path = exchange.url.path();
        if ANALYTICS_PATHS.iter().any(|p| path.starts_with(p)) {
            return Err(Left::Analytics);
        }
        match exchange.resource_type.as_deref() {
            Some("document" | "xhr" | "fetch") => Ok(()),
            Some("font") => Err(Left::Font),
            Some("media") => Err(Left::Media),
            Some("ping" | "beacon" | "csp_violation_report") => Err(Left::Analytics),
            Some("script" | "stylesheet" | "image" | "manifest" | "texttrack") => Err(Left::Static),
            // `other`, `websocket`, unknown or absent: decide from the request itself.
            _ => by_extension_and_type(exchange),
        }
    }
}

fn by_extension_and_type(exchange: &Exchange) -> Result<(), Left> {
    let path = exchange.url.path();
    let extension =
        path.rsplit('/').next().and_then(|name| name.rsplit_once('.')).map(|(_, ext)| ext.to_ascii_lowercase());
    if let Some(ext) = extension.as_deref() {
        if FONT_EXTENSIONS.contains(&ext) {
            return Err(Left::Font);
        }
        if MEDIA_EXTENSIONS.contains(&ext) {
            return Err(Left::Media);
        }
        if STATIC_EXTENSIONS.contains(&ext) {
            return Err(Left::Static);
        }
    }
    let content_type = exchange.response_type.as_deref().unwrap_or_default().to_ascii_lowercase();
    if content_type.starts_with("font/") || content_type.contains("font-woff") {
        return Err(Left::Font);
    }
    if content_type.starts_with("video/") || content_type.starts_with("audio/") {
        return Err(Left::Media);
    }
    if content_type.starts_with("image/") || content_type.starts_with("text/css") || content_type.contains("javascript")
    {
        return Err(Left::Static);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::steps::tests::exchange;

    #[test]
    fn without_resource_types_extension_and_content_type_decide() {
        let filter = Filter::default();
        let origin = "https://ent.example.org";
        let at = |url: &str, mime: &str| {
            let mut e = exchange("GET", url, None, 200, &[], "");
            e.response_type = Some(mime.into());
            e.resource_type = None;
            filter.keep(&e, origin)
        };
        assert_eq!(at("https://ent.example.org/agenda", "application/json"), Ok(()));
        assert_eq!(at("https://ent.example.org/files/cours.pdf", "application/pdf"), Ok(()), "a document is a step");
        assert_eq!(at("https://ent.example.org/app.3f2a.js", "text/plain"), Err(Left::Static));
        assert_eq!(at("https://ent.example.org/Marianne.WOFF2", ""), Err(Left::Font));
        assert_eq!(
            at("https://ent.example.org/avatar", "image/jpeg"),
            Err(Left::Static),
            "content type when no extension"
        );
        assert_eq!(at("https://ent.example.org/collect?v=2", "text/plain"), Err(Left::Analytics));
        assert_eq!(at("https://cdn.example.net/agenda", "application/json"), Err(Left::OtherOrigin));
        assert_eq!(
            at("https://ent.example.org:8443/agenda", "application/json"),
            Err(Left::OtherOrigin),
            "ports count"
        );
    }

    #[test]
    fn include_overrides_and_exclude_wins() {
        let filter = Filter {
            origin: Some("https://ent.example.org/".into()),
            include: vec![Regex::new(r"^https://sso\.example\.org/").unwrap(), Regex::new(r"/config\.js$").unwrap()],
            exclude: vec![Regex::new(r"/api/telemetry").unwrap()],
        };
        let origin = filter.origin_of(&[]).unwrap();
        assert_eq!(origin, "https://ent.example.org");
        let keep = |url: &str, kind: &str| {
            let mut e = exchange("GET", url, None, 200, &[], "");
            e.resource_type = Some(kind.into());
            filter.keep(&e, &origin)
        };
        assert_eq!(keep("https://sso.example.org/authorize", "document"), Ok(()));
        assert_eq!(keep("https://ent.example.org/config.js", "script"), Ok(()));
        assert_eq!(keep("https://ent.example.org/api/telemetry", "xhr"), Err(Left::Excluded));
        assert_eq!(keep("https://ent.example.org/api/me", "xhr"), Ok(()));
        assert_eq!(keep("https://ent.example.org/theme.css", "stylesheet"), Err(Left::Static));
    }
}
