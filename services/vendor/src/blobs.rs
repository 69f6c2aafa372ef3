//! The image object store: a local directory in embedded mode, an S3-compatible bucket at scale.

use std::sync::Arc;

use anyhow::Context as _;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use platform::CommonConfig;
use secrecy::ExposeSecret as _;

use crate::Config;

/// Builds the store the config names.
pub(crate) fn open(config: &Config, common: &CommonConfig) -> anyhow::Result<Arc<dyn ObjectStore>> {
    if let Some(s3) = &config.s3 {
        // The S3 client is reqwest on rustls without a built-in provider: the kit's (ring).
        platform::client::install_tls();
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region);
        if let Some(endpoint) = &s3.endpoint {
            b = b
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let Some(k) = &s3.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(s) = &s3.secret_access_key {
            b = b.with_secret_access_key(s.expose_secret());
        }
        return Ok(Arc::new(
            b.build().context("configuring the S3 image store")?,
        ));
    }
    let dir = common.data_dir.join("vendor-images");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the image directory {}", dir.display()))?;
    Ok(Arc::new(
        LocalFileSystem::new_with_prefix(&dir).context("opening the image directory")?,
    ))
}
