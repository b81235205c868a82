//! The evidence object store, chosen by `MEJORA_STORAGE_URL`: `file://<dir>` (default
//! `file://./data/files`, created if missing), `memory://` (tests), or any URL the
//! `object_store` crate understands such as `s3://bucket/prefix`, configured with the usual
//! `AWS_*` variables.
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::prefix::PrefixStore;
use object_store::ObjectStore;
use std::sync::Arc;

/// A handle to the store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Storage {
    /// The store.
    pub store: Arc<dyn ObjectStore>,
}

impl Storage {
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
        let options = std::env::vars().map(|(k, v)| (k.to_ascii_lowercase(), v));
        let (store, prefix) = object_store::parse_url_opts(&parsed, options)
            .map_err(|e| anyhow::anyhow!("MEJORA_STORAGE_URL is not a supported store: {e}"))?;
        let store: Arc<dyn ObjectStore> =
            if prefix.as_ref().is_empty() { Arc::from(store) } else { Arc::new(PrefixStore::new(store, prefix)) };
        Ok(Storage { store })
    }
}
