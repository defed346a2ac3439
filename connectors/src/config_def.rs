//! A connector's config keys as Kafka's `ConfigDef` describes them (name, type, default,
//! importance, documentation, group, order, width, display name): defined once, next to the
//! connector that parses them, and served by the worker's REST API
//! (`GET /connector-plugins/{p}/config`, `PUT .../config/validate`).

/// One `ConfigDef` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKey {
    pub name: &'static str,
    /// `ConfigDef.Type` name: `STRING`, `INT`, `LONG`, `LIST`, `CLASS`, ...
    pub kind: &'static str,
    pub required: bool,
    pub default: Option<&'static str>,
    pub importance: &'static str,
    pub doc: &'static str,
    pub group: Option<&'static str>,
    pub order: i32,
    pub width: &'static str,
    pub display: &'static str,
}

/// A [`ConfigKey`], its fields in Kafka's `ConfigDef.define` order.
#[allow(clippy::too_many_arguments)]
pub const fn config_key(
    name: &'static str,
    kind: &'static str,
    required: bool,
    default: Option<&'static str>,
    importance: &'static str,
    doc: &'static str,
    group: Option<&'static str>,
    order: i32,
    width: &'static str,
    display: &'static str,
) -> ConfigKey {
    ConfigKey {
        name,
        kind,
        required,
        default,
        importance,
        doc,
        group,
        order,
        width,
        display,
    }
}
