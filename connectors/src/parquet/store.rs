//! Where committed files go. A file is written whole under a temporary name, made durable
//! (fsync of the file and its directory) and renamed into place, so a reader or a crash sees
//! either no file or the complete one; temp leftovers of a crash are removed on recovery.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{ConnectorError, Result};

const TEMP_SUFFIX: &str = ".sluice-tmp";

/// A file store addressed by `/`-separated keys.
pub trait Store: Send {
    /// Writes `bytes` under `key`, atomically and durably.
    fn put(&mut self, key: &str, bytes: Vec<u8>) -> Result<()>;
    /// Committed keys under `prefix` (recursively); temp files are not listed.
    fn list(&self, prefix: &str) -> Result<Vec<String>>;
    fn read(&self, key: &str) -> Result<Vec<u8>>;
    /// Removes temp files under `prefix` left by a crash; returns how many.
    fn remove_temp(&self, prefix: &str) -> Result<usize>;
    /// What the store is, for logs (`file:///data`, ...).
    fn describe(&self) -> String;
}

/// A local directory (`store.url=file:///...`). Files are written with io_uring when
/// `uring` is set (one submission for the whole file, then fsync), else with plain writes.
#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
    uring: bool,
}

/// Whether this kernel lets us use io_uring (a ring can be created and a write completes);
/// checked once per process and logged once when it refuses.
pub fn uring_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let probe = std::panic::catch_unwind(|| {
            tokio_uring::start(async {
                let dir =
                    std::env::temp_dir().join(format!("sluice-uring-probe-{}", std::process::id()));
                let f = tokio_uring::fs::File::create(&dir).await?;
                let (res, _) = f.write_all_at(vec![0u8; 16], 0).await;
                res?;
                f.close().await?;
                std::fs::remove_file(&dir)
            })
        });
        match probe {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!("io_uring refused ({e}); local files are written with plain writes");
                false
            }
            Err(_) => {
                tracing::warn!("io_uring unavailable; local files are written with plain writes");
                false
            }
        }
    })
}

impl LocalStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root, uring: false }
    }

    /// Writes through io_uring when the kernel allows it (falls back to plain writes).
    pub fn with_uring(root: PathBuf, want: bool) -> Self {
        Self {
            root,
            uring: want && uring_available(),
        }
    }

    pub fn uses_uring(&self) -> bool {
        self.uring
    }

    fn io(&self, path: &Path, source: std::io::Error) -> ConnectorError {
        ConnectorError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    fn walk(&self, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.io(dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| self.io(dir, e))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| self.io(&path, e))?;
            if kind.is_dir() {
                self.walk(&path, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }

    fn key_of(&self, path: &Path) -> Option<String> {
        path.strip_prefix(&self.root)
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    }
}

impl Store for LocalStore {
    fn put(&mut self, key: &str, bytes: Vec<u8>) -> Result<()> {
        let path = self.root.join(key);
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| self.io(&dir, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(format!(".{name}{TEMP_SUFFIX}"));
        let written = if self.uring {
            tokio_uring::start(async {
                let f = tokio_uring::fs::File::create(&temp).await?;
                let (res, _) = f.write_all_at(bytes, 0).await;
                res?;
                f.sync_all().await?;
                f.close().await
            })
        } else {
            std::fs::File::create(&temp).and_then(|mut f| {
                f.write_all(&bytes)?;
                f.sync_all()
            })
        };
        written.map_err(|e| self.io(&temp, e))?;
        std::fs::rename(&temp, &path).map_err(|e| self.io(&path, e))?;
        // The rename is durable once the directory is.
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io(&dir, e))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut files = Vec::new();
        self.walk(&self.root.join(prefix), &mut files)?;
        Ok(files
            .iter()
            .filter(|p| !p.to_string_lossy().ends_with(TEMP_SUFFIX))
            .filter_map(|p| self.key_of(p))
            .collect())
    }

    fn read(&self, key: &str) -> Result<Vec<u8>> {
        let path = self.root.join(key);
        std::fs::read(&path).map_err(|e| self.io(&path, e))
    }

    fn remove_temp(&self, prefix: &str) -> Result<usize> {
        let mut files = Vec::new();
        self.walk(&self.root.join(prefix), &mut files)?;
        let mut n = 0;
        for p in files
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(TEMP_SUFFIX))
        {
            std::fs::remove_file(p).map_err(|e| self.io(p, e))?;
            n += 1;
        }
        Ok(n)
    }

    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puts_atomically_lists_and_cleans_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LocalStore::new(dir.path().to_path_buf());
        s.put("topics/t/partition=0/a.parquet", b"x".to_vec())
            .unwrap();
        let mut u = LocalStore::with_uring(dir.path().to_path_buf(), true);
        u.put("topics/t/partition=1/b.parquet", b"io_uring".to_vec())
            .unwrap();
        assert_eq!(
            u.read("topics/t/partition=1/b.parquet").unwrap(),
            b"io_uring"
        );
        std::fs::write(
            dir.path()
                .join("topics/t/partition=0/.b.parquet.sluice-tmp"),
            b"partial",
        )
        .unwrap();
        assert_eq!(
            u.uses_uring(),
            uring_available(),
            "io_uring used exactly when the kernel allows it"
        );
        let mut listed = s.list("topics/t").unwrap();
        listed.sort();
        assert_eq!(
            listed,
            vec![
                "topics/t/partition=0/a.parquet".to_string(),
                "topics/t/partition=1/b.parquet".to_string()
            ]
        );
        assert_eq!(s.remove_temp("topics").unwrap(), 1);
        assert_eq!(s.read("topics/t/partition=0/a.parquet").unwrap(), b"x");
        assert!(s.list("nothing/here").unwrap().is_empty());
    }
}

/// An S3-compatible bucket through `object_store` (`store.url=s3://bucket/prefix`). Objects
/// appear whole when their upload completes, so no temp names are needed; files larger than
/// `s3.part.size` go up as multipart uploads.
pub struct S3Store {
    store: Box<dyn object_store::ObjectStore>,
    prefix: String,
    part_size: usize,
    runtime: tokio::runtime::Runtime,
    url: String,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Connection settings of an S3-compatible store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    pub prefix: String,
    pub region: String,
    pub endpoint: Option<String>,
    pub path_style: bool,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub part_size: usize,
}

impl S3Store {
    pub fn connect(s: &S3Settings) -> Result<Self> {
        let err = |e: String| ConnectorError::InvalidConfig {
            key: "store.url".into(),
            value: format!("s3://{}/{}", s.bucket, s.prefix),
            reason: e,
        };
        let mut b = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_virtual_hosted_style_request(!s.path_style);
        if let Some(e) = &s.endpoint {
            b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
        }
        if let (Some(a), Some(k)) = (&s.access_key, &s.secret_key) {
            b = b.with_access_key_id(a).with_secret_access_key(k);
        }
        let store = b.build().map_err(|e| err(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| err(e.to_string()))?;
        Ok(Self {
            store: Box::new(store),
            prefix: s.prefix.trim_matches('/').to_string(),
            part_size: s.part_size,
            runtime,
            url: format!("s3://{}/{}", s.bucket, s.prefix),
        })
    }

    fn path(&self, key: &str) -> object_store::path::Path {
        if self.prefix.is_empty() {
            object_store::path::Path::from(key)
        } else {
            object_store::path::Path::from(format!("{}/{key}", self.prefix))
        }
    }

    fn io(&self, key: &str, e: impl std::fmt::Display) -> ConnectorError {
        ConnectorError::Retriable {
            message: format!("{}/{key}: {e}", self.url),
        }
    }
}

impl Store for S3Store {
    fn put(&mut self, key: &str, bytes: Vec<u8>) -> Result<()> {
        use object_store::ObjectStoreExt;
        let path = self.path(key);
        let store = &self.store;
        let part = self.part_size;
        self.runtime
            .block_on(async {
                if bytes.len() <= part {
                    store
                        .put(&path, object_store::PutPayload::from(bytes))
                        .await
                        .map(|_| ())
                } else {
                    let upload = store.put_multipart(&path).await?;
                    let mut w = object_store::WriteMultipart::new_with_chunk_size(upload, part);
                    // The file's bytes are handed over, not copied into part buffers.
                    w.put(bytes::Bytes::from(bytes));
                    // On a failed part or completion, `finish` aborts the upload itself.
                    w.finish().await.map(|_| ())
                }
            })
            .map_err(|e| self.io(key, e))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        use futures::TryStreamExt;
        let base = self.path(prefix);
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let metas: Vec<object_store::ObjectMeta> = self
            .runtime
            .block_on(self.store.list(Some(&base)).try_collect())
            .map_err(|e| self.io(prefix, e))?;
        Ok(metas
            .into_iter()
            .map(|m| m.location.to_string())
            .map(|k| k.strip_prefix(&strip).map(str::to_string).unwrap_or(k))
            .collect())
    }

    fn read(&self, key: &str) -> Result<Vec<u8>> {
        use object_store::ObjectStoreExt;
        let path = self.path(key);
        self.runtime
            .block_on(async { self.store.get(&path).await?.bytes().await })
            .map(|b| b.to_vec())
            .map_err(|e| self.io(key, e))
    }

    fn remove_temp(&self, _prefix: &str) -> Result<usize> {
        // Nothing is visible before an upload completes. A failed upload is aborted; only
        // one cut short by a crash is left, for the bucket's lifecycle rules.
        Ok(0)
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}
