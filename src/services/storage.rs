//! The evidence object store, chosen by `MEJORA_STORAGE_URL`: `file://<dir>` (default
//! `file://./data/files`, created if missing), `memory://` (tests), or any URL the
//! `object_store` crate understands such as `s3://bucket/prefix`, configured with the usual
//! `AWS_*` variables.
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt};
use std::sync::Arc;

/// A handle to the store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Storage {
    /// The store.
    pub store: Arc<dyn ObjectStore>,
}

/// The store's URL and S3 settings for the start-up log, without credentials.
pub fn describe(url: &str) -> String {
    // Credentials never belong in the URL; should someone put them there, they are not logged.
    let url = match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    };
    if !(url.starts_with("s3://") || url.starts_with("s3a://")) {
        return url;
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let endpoint = env("AWS_ENDPOINT").or_else(|| env("AWS_ENDPOINT_URL")).unwrap_or_else(|| "AWS".into());
    let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).unwrap_or_else(|| "us-east-1".into());
    let style = if env("AWS_VIRTUAL_HOSTED_STYLE_REQUEST").is_some_and(|v| v == "true") {
        "virtual-hosted"
    } else {
        "path-style"
    };
    let credentials = if env("AWS_ACCESS_KEY_ID").is_some() { "from AWS_ACCESS_KEY_ID" } else { "from the instance" };
    format!("{url} (endpoint {endpoint}, region {region}, {style}, credentials {credentials})")
}

impl Storage {
    /// Whether the store answers: a lookup of a key that need not exist, bounded to 3 s.
    pub async fn check(&self) -> Result<(), String> {
        let probe = object_store::path::Path::from("health/probe");
        match tokio::time::timeout(std::time::Duration::from_secs(3), self.store.head(&probe)).await {
            Ok(Ok(_)) | Ok(Err(object_store::Error::NotFound { .. })) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 3 s".into()),
        }
    }

    /// Opens the store named by `url`.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                anyhow::bail!("MEJORA_STORAGE_URL file:// needs a directory");
            }
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create the evidence directory {dir}: {e}"))?;
            let store = LocalFileSystem::new_with_prefix(dir)
                .map_err(|e| anyhow::anyhow!("cannot open the evidence directory {dir}: {e}"))?;
            return Ok(Storage { store: Arc::new(store) });
        }
        if url == "memory://" {
            return Ok(Storage { store: Arc::new(InMemory::new()) });
        }
        let parsed = url::Url::parse(url).map_err(|e| anyhow::anyhow!("MEJORA_STORAGE_URL is not a URL: {e}"))?;
        if matches!(parsed.scheme(), "s3" | "s3a") {
            return Self::s3(&parsed);
        }
        let options = std::env::vars().map(|(k, v)| (k.to_ascii_lowercase(), v));
        let (store, prefix) = object_store::parse_url_opts(&parsed, options)
            .map_err(|e| anyhow::anyhow!("MEJORA_STORAGE_URL is not a supported store: {e}"))?;
        let store: Arc<dyn ObjectStore> =
            if prefix.as_ref().is_empty() { Arc::from(store) } else { Arc::new(PrefixStore::new(store, prefix)) };
        Ok(Storage { store })
    }

    /// `s3://bucket/prefix`, configured by the `AWS_*` variables (`AWS_ENDPOINT`, `AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`,
    /// `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`…). Retries are bounded (a few attempts within 10 s)
    /// so an outage answers 503 promptly instead of holding requests for minutes.
    fn s3(url: &url::Url) -> anyhow::Result<Self> {
        let bucket = url
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| anyhow::anyhow!("MEJORA_STORAGE_URL s3:// needs a bucket"))?;
        let retry = object_store::RetryConfig {
            backoff: object_store::BackoffConfig {
                init_backoff: std::time::Duration::from_millis(100),
                max_backoff: std::time::Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: 3,
            retry_timeout: std::time::Duration::from_secs(10),
        };
        let store = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(retry)
            .build()
            .map_err(|e| anyhow::anyhow!("MEJORA_STORAGE_URL: cannot configure S3: {e}"))?;
        let prefix = url.path().trim_matches('/');
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { Arc::new(store) } else { Arc::new(PrefixStore::new(store, prefix)) };
        Ok(Storage { store })
    }
}
