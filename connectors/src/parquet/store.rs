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
    fn put(&mut self, key: &str, bytes: &[u8]) -> Result<()>;
    /// Committed keys under `prefix` (recursively); temp files are not listed.
    fn list(&self, prefix: &str) -> Result<Vec<String>>;
    fn read(&self, key: &str) -> Result<Vec<u8>>;
    /// Removes temp files under `prefix` left by a crash; returns how many.
    fn remove_temp(&self, prefix: &str) -> Result<usize>;
    /// What the store is, for logs (`file:///data`, ...).
    fn describe(&self) -> String;
}

/// A local directory (`store.url=file:///...`).
#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
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
    fn put(&mut self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.root.join(key);
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| self.io(&dir, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(format!(".{name}{TEMP_SUFFIX}"));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&temp)?;
            f.write_all(bytes)?;
            f.sync_all()
        };
        write().map_err(|e| self.io(&temp, e))?;
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
        s.put("topics/t/partition=0/a.parquet", b"x").unwrap();
        std::fs::write(
            dir.path()
                .join("topics/t/partition=0/.b.parquet.sluice-tmp"),
            b"partial",
        )
        .unwrap();
        assert_eq!(
            s.list("topics/t").unwrap(),
            vec!["topics/t/partition=0/a.parquet".to_string()]
        );
        assert_eq!(s.remove_temp("topics").unwrap(), 1);
        assert_eq!(s.read("topics/t/partition=0/a.parquet").unwrap(), b"x");
        assert!(s.list("nothing/here").unwrap().is_empty());
    }
}
