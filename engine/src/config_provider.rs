//! Config providers (KIP-297, KIP-421, KIP-887): the worker's `config.providers` and the
//! `${provider:[path:]key}` placeholders they resolve in worker and connector configs, with
//! Kafka's `FileConfigProvider`, `DirectoryConfigProvider` and `EnvVarConfigProvider`.
//! Connector placeholders are resolved each time a connector or task starts, never stored.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::config::Props;
use crate::error::{EngineError, Result};

/// The worker key listing the providers' names.
pub const CONFIG_PROVIDERS: &str = "config.providers";
/// `param.` key of the file and directory providers (KIP-993).
const ALLOWED_PATHS: &str = "allowed.paths";
/// `param.` key of the environment provider (KIP-887).
const ALLOWLIST_PATTERN: &str = "allowlist.pattern";

const PACKAGE: &str = "org.apache.kafka.common.config.provider.";

/// Kafka's `ConfigTransformer.DEFAULT_PATTERN`: provider up to the first colon, an optional
/// path up to the next, the key up to the closing brace.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}").expect("placeholder pattern compiles")
});

/// Where resolution failed, named as Kafka's `ConfigException` names it.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    Config {
        key: String,
        value: String,
        reason: String,
    },
    #[error("Could not read properties from file {path}")]
    ReadFile { path: String },
    #[error("Could not list directory {path}")]
    ListDirectory { path: String },
    #[error("Could not read file {path} for property {key}")]
    ReadDirectoryFile { path: String, key: String },
    #[error("Path is not supported for EnvVarConfigProvider, invalid value '{path}'")]
    EnvPath { path: String },
}

#[derive(Debug, Clone)]
enum Kind {
    /// A Java `.properties` file per path; the key is one of its properties.
    File,
    /// A directory per path; the key names a regular file in it, whose content is the value.
    Directory,
    /// The worker's environment; no path.
    EnvVar,
}

#[derive(Debug, Clone)]
struct Provider {
    kind: Kind,
    /// `allowed.paths`: absolute, normalised; `None` allows every path.
    allowed: Option<Vec<PathBuf>>,
    /// `allowlist.pattern`, matched against the whole variable name.
    allowlist: Option<Regex>,
}

/// The worker's configured providers, by name.
#[derive(Debug, Clone, Default)]
pub struct ConfigProviders {
    providers: BTreeMap<String, Provider>,
}

impl ConfigProviders {
    /// Reads `config.providers`, `config.providers.<name>.class` and `.param.*` from the
    /// worker's properties; errors name the key.
    pub fn parse(worker: &Props) -> Result<Self> {
        let worker_err = |key: String, message: String| EngineError::Worker { key, message };
        let mut providers = BTreeMap::new();
        let Some(names) = worker.get(CONFIG_PROVIDERS) else {
            return Ok(Self::default());
        };
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let class_key = format!("{CONFIG_PROVIDERS}.{name}.class");
            let class = worker.get(&class_key).map(|c| c.trim()).ok_or_else(|| {
                worker_err(
                    class_key.clone(),
                    format!(
                        "Missing required configuration \"{class_key}\" which has no default value."
                    ),
                )
            })?;
            let kind = kind_of(class).ok_or_else(|| {
                worker_err(
                    class_key.clone(),
                    format!("Invalid value {class} for configuration {class_key}: Class {class} could not be found."),
                )
            })?;
            let param = |p: &str| worker.get(&format!("{CONFIG_PROVIDERS}.{name}.param.{p}"));
            let mut provider = Provider {
                kind: kind.clone(),
                allowed: None,
                allowlist: None,
            };
            match kind {
                Kind::File | Kind::Directory => {
                    if let Some(v) = param(ALLOWED_PATHS).filter(|v| !v.is_empty()) {
                        let key = format!("{CONFIG_PROVIDERS}.{name}.param.{ALLOWED_PATHS}");
                        provider.allowed = Some(allowed_paths(v).map_err(|m| {
                            worker_err(
                                key.clone(),
                                format!("Invalid value {v} for configuration {key}: {m}"),
                            )
                        })?);
                    }
                }
                Kind::EnvVar => {
                    if let Some(v) = param(ALLOWLIST_PATTERN) {
                        let key = format!("{CONFIG_PROVIDERS}.{name}.param.{ALLOWLIST_PATTERN}");
                        let re = Regex::new(&format!("^(?:{v})$")).map_err(|e| {
                            worker_err(
                                key.clone(),
                                format!("Invalid value {v} for configuration {key}: {e}"),
                            )
                        })?;
                        provider.allowlist = Some(re);
                    }
                }
            }
            providers.insert(name.to_string(), provider);
        }
        Ok(Self { providers })
    }

    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// `props` with every placeholder a provider can answer replaced, as Kafka's
    /// `ConfigTransformer` does: an unknown provider, an empty path for a file, a missing key
    /// or a path outside `allowed.paths` leaves the placeholder as it is.
    pub fn resolve(&self, props: &Props) -> Result<Props, ProviderError> {
        if self.providers.is_empty() || !props.values().any(|v| v.contains("${")) {
            return Ok(props.clone());
        }
        // Every (provider, path) asked once, with all its keys.
        let mut wanted: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
        for v in props.values() {
            for c in PLACEHOLDER.captures_iter(v) {
                let (provider, path, key) = parts(&c);
                if self.providers.contains_key(provider) {
                    wanted.entry((provider, path)).or_default().insert(key);
                }
            }
        }
        let mut found: HashMap<(&str, &str), HashMap<String, String>> = HashMap::new();
        for ((name, path), keys) in wanted {
            let p = &self.providers[name];
            found.insert((name, path), p.get(path, &keys)?);
        }
        Ok(props
            .iter()
            .map(|(k, v)| {
                let replaced = PLACEHOLDER.replace_all(v, |c: &regex::Captures<'_>| {
                    let (provider, path, key) = parts(c);
                    found
                        .get(&(provider, path))
                        .and_then(|data| data.get(key))
                        .cloned()
                        .unwrap_or_else(|| c[0].to_string())
                });
                (k.clone(), replaced.into_owned())
            })
            .collect())
    }
}

/// Whether `value` holds a placeholder of any provider (resolved again at each start).
pub fn has_placeholder(value: &str) -> bool {
    PLACEHOLDER.is_match(value)
}

fn parts<'a>(c: &regex::Captures<'a>) -> (&'a str, &'a str, &'a str) {
    let g = |i: usize| c.get(i).map_or("", |m| m.as_str());
    (g(1), g(3), g(4))
}

/// The provider a class name means: Kafka's full names, simple names and the aliases its
/// plugin scanner derives (`File`, `Directory`, `EnvVar`).
fn kind_of(class: &str) -> Option<Kind> {
    let simple = class.strip_prefix(PACKAGE).unwrap_or(class);
    let simple = simple.strip_suffix("ConfigProvider").unwrap_or(simple);
    // A full name must be spelled exactly; aliases have no package.
    if class.contains('.') && !class.starts_with(PACKAGE) {
        return None;
    }
    match simple {
        "File" => Some(Kind::File),
        "Directory" => Some(Kind::Directory),
        "EnvVar" => Some(Kind::EnvVar),
        _ => None,
    }
}

/// `allowed.paths`: each path absolute and existing, as Kafka's `AllowedPaths` requires.
fn allowed_paths(value: &str) -> std::result::Result<Vec<PathBuf>, String> {
    value
        .split(',')
        .map(|p| {
            let n = normalize(Path::new(p));
            if n.is_absolute() && n.exists() {
                Ok(n)
            } else {
                Err(format!(
                    "Path {} is not valid. The path should be absolute and exist",
                    n.display()
                ))
            }
        })
        .collect()
}

/// `Path.normalize()`: `.` dropped, `..` removing the name before it, nothing resolved on
/// disk.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

impl Provider {
    fn permitted(&self, path: &str) -> Option<PathBuf> {
        let p = Path::new(path);
        match &self.allowed {
            None => Some(p.to_path_buf()),
            Some(roots) => {
                let n = normalize(p);
                roots.iter().any(|r| n.starts_with(r)).then_some(n)
            }
        }
    }

    fn get(
        &self,
        path: &str,
        keys: &BTreeSet<&str>,
    ) -> Result<HashMap<String, String>, ProviderError> {
        let mut out = HashMap::new();
        match self.kind {
            Kind::File => {
                if path.is_empty() {
                    return Ok(out);
                }
                let Some(file) = self.permitted(path) else {
                    tracing::warn!("The path {path} is not allowed to be accessed");
                    return Ok(out);
                };
                let text = std::fs::read_to_string(&file).map_err(|_| ProviderError::ReadFile {
                    path: path.to_string(),
                })?;
                let all = crate::properties::parse(&text);
                for k in keys {
                    if let Some(v) = all.get(*k) {
                        out.insert(k.to_string(), v.clone());
                    }
                }
            }
            Kind::Directory => {
                if path.is_empty() {
                    return Ok(out);
                }
                let Some(dir) = self.permitted(path) else {
                    tracing::warn!("The path {path} is not allowed to be accessed");
                    return Ok(out);
                };
                if !dir.is_dir() {
                    tracing::warn!("The path {path} is not a directory");
                    return Ok(out);
                }
                let entries =
                    std::fs::read_dir(&dir).map_err(|_| ProviderError::ListDirectory {
                        path: dir.display().to_string(),
                    })?;
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let file = entry.path();
                    if !keys.contains(name.as_str()) || !file.is_file() {
                        continue;
                    }
                    let bytes =
                        std::fs::read(&file).map_err(|_| ProviderError::ReadDirectoryFile {
                            path: file.display().to_string(),
                            key: name.clone(),
                        })?;
                    out.insert(name, String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            Kind::EnvVar => {
                if !path.is_empty() {
                    return Err(ProviderError::EnvPath {
                        path: path.to_string(),
                    });
                }
                for k in keys {
                    if self.allowlist.as_ref().is_some_and(|re| !re.is_match(k)) {
                        continue;
                    }
                    if let Some(v) = std::env::var_os(k) {
                        out.insert(k.to_string(), v.to_string_lossy().into_owned());
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn providers(extra: &[(&str, &str)]) -> ConfigProviders {
        let mut p = Props::from([
            ("config.providers".to_string(), "file,dir,env".to_string()),
            (
                "config.providers.file.class".into(),
                format!("{PACKAGE}FileConfigProvider"),
            ),
            (
                "config.providers.dir.class".into(),
                "DirectoryConfigProvider".into(),
            ),
            ("config.providers.env.class".into(), "EnvVar".into()),
        ]);
        for (k, v) in extra {
            p.insert(k.to_string(), v.to_string());
        }
        ConfigProviders::parse(&p).unwrap()
    }

    fn one(p: &ConfigProviders, v: &str) -> Result<String, ProviderError> {
        let props = Props::from([("k".to_string(), v.to_string())]);
        p.resolve(&props).map(|mut r| r.remove("k").unwrap())
    }

    /// Expected values are those Kafka 4.3's `ConfigTransformer` gave for the same inputs.
    #[test]
    fn placeholders_resolve_as_kafkas_config_transformer() {
        let dir = tempfile::tempdir().unwrap();
        let props = dir.path().join("s.properties");
        std::fs::write(
            &props,
            "pw=s3cret\nuser = alice\nesc=a\\\\b\\u0041 \\\n  cont\na\\:b=colon\n",
        )
        .unwrap();
        let d = dir.path().join("d");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("secret"), "topsecret").unwrap();
        std::fs::write(d.join("nl"), "line\n").unwrap();
        let (f, d) = (props.display().to_string(), d.display().to_string());
        let p = providers(&[("config.providers.env.param.allowlist.pattern", "CARGO.*")]);
        let cases = [
            (format!("${{file:{f}:pw}}"), "s3cret".to_string()),
            (
                format!("x${{file:{f}:pw}}y${{file:{f}:user}}"),
                "xs3cretyalice".into(),
            ),
            (
                format!("${{file:{f}:missing}}"),
                format!("${{file:{f}:missing}}"),
            ),
            ("${nope:/a:b}".into(), "${nope:/a:b}".into()),
            (format!("${{dir:{d}:secret}}"), "topsecret".into()),
            (format!("${{dir:{d}:nl}}"), "line\n".into()),
            (
                format!("${{dir:{d}:missing}}"),
                format!("${{dir:{d}:missing}}"),
            ),
            (
                "${dir:/nonexistent/dir:secret}".into(),
                "${dir:/nonexistent/dir:secret}".into(),
            ),
            ("${file:pw}".into(), "${file:pw}".into()),
            ("${a}".into(), "${a}".into()),
            (format!("${{file:{f}:esc}}"), "a\\bA cont".into()),
            (format!("$${{file:{f}:pw}}}}"), "$s3cret}".into()),
            (format!("${{file:{f}:a:b}}"), "colon".into()),
            ("${env:HOME}".into(), "${env:HOME}".into()),
        ];
        for (input, want) in cases {
            assert_eq!(one(&p, &input).unwrap(), want, "{input}");
        }
        let cargo = std::env::var("CARGO").unwrap();
        assert_eq!(one(&p, "${env:CARGO}").unwrap(), cargo);
        assert_eq!(one(&p, "${env::CARGO}").unwrap(), cargo);
        assert_eq!(
            one(&p, "${env:/p:CARGO}").unwrap_err().to_string(),
            "Path is not supported for EnvVarConfigProvider, invalid value '/p'"
        );
        assert_eq!(
            one(&p, "${file:/nonexistent/x.properties:pw}")
                .unwrap_err()
                .to_string(),
            "Could not read properties from file /nonexistent/x.properties"
        );
        // allowed.paths: outside it a placeholder stays; `..` cannot climb out.
        let only_d = providers(&[
            ("config.providers.file.param.allowed.paths", &d),
            ("config.providers.dir.param.allowed.paths", &d),
        ]);
        assert_eq!(
            one(&only_d, &format!("${{dir:{d}:secret}}")).unwrap(),
            "topsecret"
        );
        let outside = format!("${{file:{f}:pw}}");
        assert_eq!(one(&only_d, &outside).unwrap(), outside);
        let climbing = format!("${{file:{d}/../s.properties:pw}}");
        assert_eq!(one(&only_d, &climbing).unwrap(), climbing);
    }

    #[test]
    fn bad_provider_configs_name_their_key() {
        let bad = |extra: &[(&str, &str)]| {
            let mut p = Props::from([("config.providers".to_string(), "x".to_string())]);
            for (k, v) in extra {
                p.insert(k.to_string(), v.to_string());
            }
            match ConfigProviders::parse(&p).unwrap_err() {
                EngineError::Worker { key, message } => (key, message),
                other => panic!("{other}"),
            }
        };
        assert_eq!(bad(&[]).0, "config.providers.x.class");
        let (key, message) = bad(&[("config.providers.x.class", "com.example.Vault")]);
        assert_eq!(key, "config.providers.x.class");
        assert!(
            message.contains("Class com.example.Vault could not be found"),
            "{message}"
        );
        let (key, message) = bad(&[
            ("config.providers.x.class", "FileConfigProvider"),
            ("config.providers.x.param.allowed.paths", "relative/dir"),
        ]);
        assert_eq!(key, "config.providers.x.param.allowed.paths");
        assert!(
            message
                .ends_with("Path relative/dir is not valid. The path should be absolute and exist"),
            "{message}"
        );
    }
}
