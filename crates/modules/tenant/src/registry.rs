//! The module registry: every module's spec (compiled into the server), each checked when loaded
//! against the spec schema and for consistency (dependencies exist, no cycles, defaults valid
//! against the module's own config schema), plus the industry templates, checked the same way.
//! Everything that decides about modules — dependency order, defaults, config validation, which
//! config keys are public — reads from here.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use anyhow::{Context as _, bail};
use mm_kernel::error::FieldViolation;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::Branding;

static SPEC_SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../module-spec.schema.json")).unwrap_or(Value::Null)
});

/// Built-in industry templates, owned by this module.
pub const BUILTIN_TEMPLATES: &[&str] = &[
    include_str!("../templates/restaurant.json"),
    include_str!("../templates/salon.json"),
    include_str!("../templates/retail.json"),
];

/// The tenant module's own spec.
pub const SPEC: &str = include_str!("../module.json");

/// A zh-CN / en pair.
#[derive(Debug, Clone, Deserialize)]
pub struct I18n {
    /// Chinese.
    #[serde(rename = "zh-CN")]
    pub zh: String,
    /// English.
    pub en: String,
}

/// A declared permission.
#[derive(Debug, Clone, Deserialize)]
pub struct PermissionSpec {
    /// Name.
    pub name: String,
    /// Description.
    pub description: I18n,
}

/// A mini-program page.
#[derive(Debug, Clone, Deserialize)]
pub struct PageSpec {
    /// Path inside the subpackage.
    pub path: String,
    /// Title.
    pub title: I18n,
}

/// A tab bar entry.
#[derive(Debug, Clone, Deserialize)]
pub struct TabSpec {
    /// Page path.
    pub page: String,
    /// Label.
    pub text: I18n,
    /// Icon name.
    pub icon: String,
    /// Sort order.
    pub order: i32,
}

/// An admin menu entry.
#[derive(Debug, Clone, Deserialize)]
pub struct AdminMenuSpec {
    /// Route path.
    pub path: String,
    /// Title.
    pub title: I18n,
    /// Permission needed.
    #[serde(default)]
    pub permission: String,
}

/// A module spec as written in its module.json.
#[derive(Debug, Clone, Deserialize)]
pub struct ModuleSpec {
    /// Id.
    pub id: String,
    /// Version.
    pub version: String,
    /// Always on.
    #[serde(default)]
    pub core: bool,
    /// Names.
    pub name: I18n,
    /// Description.
    pub description: I18n,
    /// Dependencies.
    pub dependencies: Vec<String>,
    /// Extension points of other modules it serves, each with the service implementing it.
    #[serde(default)]
    pub serves: std::collections::BTreeMap<String, String>,
    /// Permissions.
    pub permissions: Vec<PermissionSpec>,
    /// Config JSON Schema.
    pub config_schema: Value,
    /// Pages.
    pub pages: Vec<PageSpec>,
    /// Tabs.
    pub tabs: Vec<TabSpec>,
    /// Admin menu.
    pub admin_menu: Vec<AdminMenuSpec>,
}

/// An industry template as written in its JSON file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// Id.
    pub id: String,
    /// Names.
    pub name: I18n,
    /// Modules to enable (core modules are always on).
    pub modules: Vec<String>,
    /// Config per module, merged over the defaults.
    #[serde(default)]
    pub config: BTreeMap<String, Value>,
    /// Colours.
    pub branding: TemplateBranding,
}

/// A template's colours.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateBranding {
    /// Main colour.
    pub primary_color: String,
    /// Accent colour.
    pub secondary_color: String,
    /// Background colour.
    pub background_color: String,
    /// Text colour.
    pub text_color: String,
}

impl TemplateBranding {
    /// As full branding.
    pub fn to_branding(&self) -> Branding {
        Branding {
            primary_color: self.primary_color.clone(),
            secondary_color: self.secondary_color.clone(),
            background_color: self.background_color.clone(),
            text_color: self.text_color.clone(),
            logo_url: String::new(),
            display_name: String::new(),
        }
    }
}

/// A loaded module: its spec, compiled schema and defaults.
pub struct LoadedModule {
    /// The spec.
    pub spec: ModuleSpec,
    validator: jsonschema::Validator,
    /// Defaults from the schema's top-level `default`s.
    pub defaults: Map<String, Value>,
    public_keys: Vec<String>,
    rules: Option<mm_kernel::module::ConfigRulesFn>,
}

impl std::fmt::Debug for LoadedModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModule")
            .field("id", &self.spec.id)
            .finish_non_exhaustive()
    }
}

/// Every module and template of this installation.
#[derive(Debug)]
pub struct Registry {
    modules: Vec<LoadedModule>,
    index: HashMap<String, usize>,
    templates: Vec<TemplateSpec>,
}

impl Registry {
    /// Loads and checks specs and templates; any problem is a start-up error naming the file.
    pub fn load(specs: &[&str], templates: &[&str]) -> anyhow::Result<Self> {
        let meta = jsonschema::validator_for(&SPEC_SCHEMA).context("module spec schema")?;
        let mut loaded = Vec::new();
        for raw in specs {
            let value: Value = serde_json::from_str(raw).context("module spec is not JSON")?;
            let id = value
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            let errors: Vec<String> = meta
                .iter_errors(&value)
                .map(|e| format!("{}: {e}", e.instance_path().as_str()))
                .collect();
            if !errors.is_empty() {
                bail!("module spec {id} is invalid: {}", errors.join("; "));
            }
            let spec: ModuleSpec =
                serde_json::from_value(value).with_context(|| format!("module spec {id}"))?;
            let validator = jsonschema::validator_for(&spec.config_schema).map_err(|e| {
                anyhow::anyhow!("config schema of module {id} is not a valid JSON Schema: {e}")
            })?;
            let mut defaults = Map::new();
            let mut public_keys = Vec::new();
            if let Some(props) = spec
                .config_schema
                .get("properties")
                .and_then(Value::as_object)
            {
                for (key, prop) in props {
                    if let Some(d) = prop.get("default") {
                        defaults.insert(key.clone(), d.clone());
                    }
                    if prop.get("x-public").and_then(Value::as_bool) == Some(true) {
                        public_keys.push(key.clone());
                    }
                }
            }
            let defaults_value = Value::Object(defaults.clone());
            if let Some(e) = validator.iter_errors(&defaults_value).next() {
                bail!("defaults of module {id} do not satisfy its schema: {e}");
            }
            // A served service must be the module's own: calls are routed by package, so a
            // service of another package would reach that module (or nobody) in a mesh.
            let own = format!("minimodules.{id}.");
            for (point, service) in &spec.serves {
                if !service.starts_with(&own) {
                    bail!(
                        "module {id} serves {point} with {service}, not a service of its own package"
                    );
                }
            }
            for t in &spec.tabs {
                if !spec.pages.iter().any(|p| p.path == t.page) {
                    bail!("module {id}: tab page {} is not one of its pages", t.page);
                }
            }
            loaded.push(LoadedModule {
                spec,
                validator,
                defaults,
                public_keys,
                rules: None,
            });
        }
        let mut index = HashMap::new();
        for (i, m) in loaded.iter().enumerate() {
            if index.insert(m.spec.id.clone(), i).is_some() {
                bail!("module {} is registered twice", m.spec.id);
            }
        }
        for m in &loaded {
            for d in &m.spec.dependencies {
                if !index.contains_key(d) {
                    bail!("module {} depends on unknown module {d}", m.spec.id);
                }
            }
        }
        let order = topological_order(&loaded, &index)?;
        let mut by_order: Vec<Option<LoadedModule>> = loaded.into_iter().map(Some).collect();
        let modules: Vec<LoadedModule> = order
            .into_iter()
            .filter_map(|i| by_order[i].take())
            .collect();
        let index = modules
            .iter()
            .enumerate()
            .map(|(i, m)| (m.spec.id.clone(), i))
            .collect();
        let mut registry = Self {
            modules,
            index,
            templates: Vec::new(),
        };
        for raw in templates {
            let t: TemplateSpec = serde_json::from_str(raw).context("industry template")?;
            registry.check_template(&t)?;
            registry.templates.push(t);
        }
        Ok(registry)
    }

    fn check_template(&self, t: &TemplateSpec) -> anyhow::Result<()> {
        let enabled: HashSet<&str> = self.template_modules(t).into_iter().collect();
        for m in &t.modules {
            let module = self
                .get(m)
                .with_context(|| format!("template {}: unknown module {m}", t.id))?;
            for d in &module.spec.dependencies {
                if !enabled.contains(d.as_str()) {
                    bail!(
                        "template {}: module {m} needs {d}, which the template does not enable",
                        t.id
                    );
                }
            }
        }
        for (m, cfg) in &t.config {
            if !enabled.contains(m.as_str()) {
                bail!(
                    "template {}: config for module {m}, which it does not enable",
                    t.id
                );
            }
            self.validate_config(m, cfg).map_err(|v| {
                anyhow::anyhow!("template {}: config of {m} is invalid: {v:?}", t.id)
            })?;
        }
        t.branding
            .to_branding()
            .validate("branding")
            .map_err(|e| anyhow::anyhow!("template {}: {e}", t.id))?;
        Ok(())
    }

    /// Modules in dependency order (a module after everything it needs).
    pub fn modules(&self) -> &[LoadedModule] {
        &self.modules
    }

    /// One module.
    pub fn get(&self, id: &str) -> Option<&LoadedModule> {
        self.index.get(id).map(|&i| &self.modules[i])
    }

    /// Templates.
    pub fn templates(&self) -> &[TemplateSpec] {
        &self.templates
    }

    /// One template.
    pub fn template(&self, id: &str) -> Option<&TemplateSpec> {
        self.templates.iter().find(|t| t.id == id)
    }

    /// Core modules plus the template's, in dependency order.
    pub fn template_modules<'a>(&'a self, t: &'a TemplateSpec) -> Vec<&'a str> {
        self.modules
            .iter()
            .filter(|m| m.spec.core || t.modules.contains(&m.spec.id))
            .map(|m| m.spec.id.as_str())
            .collect()
    }

    /// Ids of the modules that are always on.
    pub fn core_modules(&self) -> impl Iterator<Item = &str> {
        self.modules
            .iter()
            .filter(|m| m.spec.core)
            .map(|m| m.spec.id.as_str())
    }

    /// Enabled modules that list `id` as a dependency.
    pub fn dependents(&self, id: &str, enabled: &HashSet<String>) -> Vec<String> {
        self.modules
            .iter()
            .filter(|m| enabled.contains(&m.spec.id) && m.spec.dependencies.iter().any(|d| d == id))
            .map(|m| m.spec.id.clone())
            .collect()
    }

    /// Adds the modules' cross-field config rules (`ModuleDef::config_rules`), by module id.
    pub fn with_rules(mut self, rules: &[(&str, mm_kernel::module::ConfigRulesFn)]) -> Self {
        for (id, rule) in rules {
            if let Some(&i) = self.index.get(*id) {
                self.modules[i].rules = Some(*rule);
            }
        }
        self
    }

    /// Fills defaults into `config` and validates it; violations name the field as "config.<path>".
    pub fn validate_config(&self, id: &str, config: &Value) -> Result<Value, Vec<FieldViolation>> {
        let Some(m) = self.get(id) else {
            return Err(vec![FieldViolation::new(
                "name",
                format!("unknown module {id}"),
            )]);
        };
        let Value::Object(given) = config else {
            return Err(vec![FieldViolation::new("config", "must be an object")]);
        };
        let mut merged = m.defaults.clone();
        for (k, v) in given {
            merged.insert(k.clone(), v.clone());
        }
        let merged = Value::Object(merged);
        let violations: Vec<FieldViolation> = m
            .validator
            .iter_errors(&merged)
            .map(|e| {
                let path = e
                    .instance_path()
                    .as_str()
                    .trim_start_matches('/')
                    .replace('/', ".");
                let field = if path.is_empty() {
                    "config".to_string()
                } else {
                    format!("config.{path}")
                };
                let at = schema_at(&m.spec.config_schema, e.instance_path().as_str());
                reasoned(FieldViolation::new(field, e.to_string()), e.kind(), at)
            })
            .collect();
        // The module's own rules read typed values, so they run on a config the schema passed.
        let violations = match (&merged, m.rules) {
            (Value::Object(c), Some(rules)) if violations.is_empty() => rules(c),
            _ => violations,
        };
        if violations.is_empty() {
            Ok(merged)
        } else {
            Err(violations)
        }
    }

    /// The keys of a stored config a module marks public.
    pub fn public_config(&self, id: &str, config: &Value) -> Map<String, Value> {
        let Some(m) = self.get(id) else {
            return Map::new();
        };
        m.public_keys
            .iter()
            .filter_map(|k| config.get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }
}

fn topological_order(
    mods: &[LoadedModule],
    index: &HashMap<String, usize>,
) -> anyhow::Result<Vec<usize>> {
    // 0 = unvisited, 1 = on the stack, 2 = done: a 1 met again is a cycle.
    fn visit(
        i: usize,
        mods: &[LoadedModule],
        index: &HashMap<String, usize>,
        state: &mut [u8],
        out: &mut Vec<usize>,
    ) -> anyhow::Result<()> {
        match state[i] {
            2 => return Ok(()),
            1 => bail!("module dependency cycle through {}", mods[i].spec.id),
            _ => {}
        }
        state[i] = 1;
        for d in &mods[i].spec.dependencies {
            if let Some(&j) = index.get(d) {
                visit(j, mods, index, state, out)?;
            }
        }
        state[i] = 2;
        out.push(i);
        Ok(())
    }
    let mut state = vec![0u8; mods.len()];
    let mut out = Vec::with_capacity(mods.len());
    // Core modules first, then the rest in the order given, each after its dependencies.
    let mut starts: Vec<usize> = (0..mods.len()).collect();
    starts.sort_by_key(|&i| !mods[i].spec.core);
    for i in starts {
        visit(i, mods, index, &mut state, &mut out)?;
    }
    Ok(out)
}

/// The schema a config value is checked against, found by walking `properties` and `items`
/// along the value's JSON pointer (`/opening_hours/0/start`).
fn schema_at<'a>(schema: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut at = schema;
    for step in pointer.split('/').filter(|s| !s.is_empty()) {
        at = match at.get("properties").and_then(|p| p.get(step)) {
            Some(s) => s,
            None if step.chars().all(|c| c.is_ascii_digit()) => at.get("items")?,
            None => return None,
        };
    }
    Some(at)
}

/// A schema violation with the reason and facts clients word it from: the schema's bound or
/// limit, and for a pattern the `x-format` the spec names it by ("time" for "HH:MM"), never the
/// pattern itself.
fn reasoned(
    v: FieldViolation,
    kind: &jsonschema::error::ValidationErrorKind,
    at: Option<&Value>,
) -> FieldViolation {
    use jsonschema::error::ValidationErrorKind as K;
    let bound = |key: &str| at.and_then(|s| s.get(key)).cloned();
    // Money is kept in fen and asked in yuan: its bounds are worded in yuan.
    let money = at.and_then(|s| s.get("x-unit")).and_then(Value::as_str) == Some("fen");
    if money
        && matches!(
            kind,
            K::Minimum { .. }
                | K::Maximum { .. }
                | K::ExclusiveMinimum { .. }
                | K::ExclusiveMaximum { .. }
        )
    {
        let yuan = |key: &str| bound(key).and_then(|b| b.as_i64()).map(|f| f / 100);
        let mut v = v.reason("MONEY_OUT_OF_RANGE");
        if let Some(min) = yuan("minimum") {
            v = v.param("min_yuan", min);
        }
        if let Some(max) = yuan("maximum") {
            v = v.param("max_yuan", max);
        }
        return v;
    }
    match kind {
        K::Required { property } => FieldViolation {
            field: format!("{}.{}", v.field, property.as_str().unwrap_or_default()),
            ..v
        }
        .reason("REQUIRED"),
        K::Minimum { limit } | K::ExclusiveMinimum { limit } => {
            let v = v.reason("BELOW_MINIMUM").param("min", limit);
            match bound("maximum") {
                Some(max) => v.param("max", max),
                None => v,
            }
        }
        K::Maximum { limit } | K::ExclusiveMaximum { limit } => {
            let v = v.reason("ABOVE_MAXIMUM").param("max", limit);
            match bound("minimum") {
                Some(min) => v.param("min", min),
                None => v,
            }
        }
        K::MaxLength { limit } => v.reason("TOO_LONG").param("max", limit),
        K::MinLength { limit } => v.reason("TOO_SHORT").param("min", limit),
        K::MaxItems { limit } => v.reason("TOO_MANY").param("max", limit),
        K::MinItems { limit } => v.reason("TOO_FEW").param("min", limit),
        K::UniqueItems => v.reason("DUPLICATE"),
        K::Enum { .. } | K::Constant { .. } => v.reason("NOT_ALLOWED"),
        K::Type { .. } => v.reason("WRONG_TYPE"),
        K::AdditionalProperties { unexpected } => v
            .reason("UNKNOWN_FIELD")
            .param("names", unexpected.join(",")),
        K::Pattern { .. } | K::Format { .. } => {
            let format = at
                .and_then(|s| s.get("x-format"))
                .and_then(Value::as_str)
                .filter(|f| f.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                .unwrap_or("text");
            v.reason("INVALID_FORMAT").param("format", format)
        }
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, deps: &[&str]) -> String {
        serde_json::json!({
            "id": id, "version": "1.0.0",
            "name": {"zh-CN": "模块", "en": "Module"},
            "description": {"zh-CN": "说明", "en": "About"},
            "dependencies": deps, "permissions": [],
            "config_schema": {"type": "object", "additionalProperties": false, "properties": {
                "n": {"type": "integer", "minimum": 0, "default": 1, "x-public": true},
                "secret": {"type": "string", "default": "s"}
            }},
            "pages": [], "tabs": [], "admin_menu": []
        })
        .to_string()
    }

    #[test]
    fn orders_modules_after_their_dependencies() {
        let (a, b, c) = (spec("aa", &["bb"]), spec("bb", &["cc"]), spec("cc", &[]));
        let r = Registry::load(&[&a, &b, &c], &[]).unwrap();
        let ids: Vec<_> = r.modules().iter().map(|m| m.spec.id.as_str()).collect();
        assert_eq!(ids, vec!["cc", "bb", "aa"]);
    }

    #[test]
    fn refuses_cycles_and_unknown_dependencies() {
        let (a, b) = (spec("aa", &["bb"]), spec("bb", &["aa"]));
        assert!(
            Registry::load(&[&a, &b], &[])
                .unwrap_err()
                .to_string()
                .contains("cycle")
        );
        assert!(Registry::load(&[&spec("aa", &["zz"])], &[]).is_err());
    }

    #[test]
    fn refuses_a_spec_that_breaks_the_spec_schema() {
        let bad = serde_json::json!({"id": "Bad Id"}).to_string();
        assert!(
            Registry::load(&[&bad], &[])
                .unwrap_err()
                .to_string()
                .contains("invalid")
        );
    }

    #[test]
    fn fills_defaults_and_reports_field_paths() {
        let a = spec("aa", &[]);
        let r = Registry::load(&[&a], &[]).unwrap();
        let ok = r
            .validate_config("aa", &serde_json::json!({"n": 3}))
            .unwrap();
        assert_eq!(ok, serde_json::json!({"n": 3, "secret": "s"}));
        let errs = r
            .validate_config("aa", &serde_json::json!({"n": -1, "typo": 1}))
            .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|v| v.field.as_str()).collect();
        assert!(fields.contains(&"config.n"), "{fields:?}");
        assert!(
            fields.contains(&"config"),
            "additionalProperties is reported on the object: {fields:?}"
        );
    }

    #[test]
    fn public_config_keeps_only_marked_keys() {
        let a = spec("aa", &[]);
        let r = Registry::load(&[&a], &[]).unwrap();
        let p = r.public_config("aa", &serde_json::json!({"n": 2, "secret": "x"}));
        assert_eq!(Value::Object(p), serde_json::json!({"n": 2}));
    }
}
