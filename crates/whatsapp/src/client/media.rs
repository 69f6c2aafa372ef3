//! Inbound media: `GET /{version}/{media_id}` gives a short-lived URL on Meta's CDN, which is
//! then fetched with the same bearer token. URLs expire after about five minutes, so callers
//! download promptly rather than storing the URL.

use reqwest::{Method, Url};
use secrecy::ExposeSecret;
use serde::{Deserialize, Deserializer};

use super::{Client, path_segment};
use crate::error::{Error, GraphError};

/// What Meta says about a media id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MediaInfo {
    /// The media id.
    #[serde(default)]
    pub id: String,
    /// Where to download it (short-lived, needs the bearer token).
    pub url: String,
    /// MIME type.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// Hash of the file as Meta reports it.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Size in bytes (Meta sends a number or a numeric string).
    #[serde(default, deserialize_with = "number_or_string")]
    pub file_size: Option<u64>,
}

/// A downloaded media file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    /// What Meta said about it.
    pub info: MediaInfo,
    /// The content.
    pub bytes: Vec<u8>,
}

impl Client {
    /// Looks up `media_id` (from an inbound image, audio, document, ...).
    pub async fn media_info(&self, media_id: &str) -> Result<MediaInfo, Error> {
        let inner = &self.inner;
        let path = format!("/{}/{}", inner.version, path_segment("media id", media_id)?);
        let req = inner
            .graph
            .request(Method::GET, &path)
            .bearer_auth(inner.token.expose_secret());
        let res = inner.graph.send(req).await?;
        let status = res.status().as_u16();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| Error::Decode(e.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(GraphError::from_body(status, &bytes).into());
        }
        serde_json::from_slice(&bytes).map_err(|e| Error::Decode(e.to_string()))
    }

    /// Looks up `media_id`, then downloads it (at most the configured `max_media_bytes`).
    pub async fn download_media(&self, media_id: &str) -> Result<MediaFile, Error> {
        let info = self.media_info(media_id).await?;
        let bytes = self.download(&info.url).await?;
        Ok(MediaFile { info, bytes })
    }

    async fn download(&self, url: &str) -> Result<Vec<u8>, Error> {
        let inner = &self.inner;
        if !self.trusted(url) {
            return Err(Error::UntrustedMediaUrl);
        }
        let limit = inner.max_media_bytes;
        let req = inner
            .cdn
            .request(Method::GET, url)
            .bearer_auth(inner.token.expose_secret());
        let mut res = inner.cdn.send(req).await?;
        let status = res.status().as_u16();
        if !(200..300).contains(&status) {
            let body = res.bytes().await.unwrap_or_default();
            return Err(GraphError::from_body(status, &body).into());
        }
        // Refuse early when the size is announced, and count anyway: the header may lie.
        let announced = res.content_length().unwrap_or(0);
        if usize::try_from(announced).map_or(true, |n| n > limit) {
            return Err(Error::MediaTooLarge { limit });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        while let Some(chunk) = res
            .chunk()
            .await
            .map_err(|e| Error::Decode(e.to_string()))?
        {
            if bytes.len() + chunk.len() > limit {
                return Err(Error::MediaTooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// The token goes only to HTTPS URLs or to the configured Graph origin (a test server),
    /// never over plain HTTP to a host we did not choose.
    fn trusted(&self, url: &str) -> bool {
        let Ok(url) = Url::parse(url) else {
            return false;
        };
        url.scheme() == "https"
            || Url::parse(&self.inner.base_url).is_ok_and(|base| base.origin() == url.origin())
    }
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}
