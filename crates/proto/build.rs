//! Compiles every .proto under the workspace's proto/ with protox (pure Rust, so a fresh machine needs
//! no protoc), generates tonic/prost code for all packages, writes the descriptor set used by server
//! reflection, and turns each RPC's `(minimodules.common.v1.access)` option into a static table that
//! the kernel's access layer enforces.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use prost_reflect::{DynamicMessage, ReflectMessage as _, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest.join("../../proto").canonicalize()?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut files = Vec::new();
    collect_protos(&proto_root, &mut files)?;
    files.sort();
    println!("cargo:rerun-if-changed={}", proto_root.display());
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }

    let mut compiler = protox::Compiler::new([&proto_root])?;
    compiler.include_source_info(true).include_imports(true);
    for f in &files {
        compiler.open_file(f.strip_prefix(&proto_root)?)?;
    }
    let fds = compiler.file_descriptor_set();
    std::fs::write(
        out_dir.join("descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    // Clients with tonic-prost's codec; servers with ours, which answers an undecodable request
    // INVALID_ARGUMENT instead of INTERNAL (see src/codec.rs). One generator writes both, client
    // first, as tonic-prost-build would.
    let clients = tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .service_generator();
    let servers = tonic_prost_build::configure()
        .build_server(true)
        .build_client(false)
        .codec_path("crate::codec::ServerCodec")
        .service_generator();
    let mut config = tonic_prost_build::Config::new();
    config
        .service_generator(Box::new(Both(clients, servers)))
        .include_file("_includes.rs")
        .compile_fds(fds)?;

    let pool = compiler.descriptor_pool();
    std::fs::write(out_dir.join("access_table.rs"), access_table(&pool)?)?;
    std::fs::write(out_dir.join("request_types.rs"), request_types(&pool)?)?;
    Ok(())
}

/// Runs two service generators over every service, one after the other.
struct Both(
    Box<dyn prost_build::ServiceGenerator>,
    Box<dyn prost_build::ServiceGenerator>,
);

impl prost_build::ServiceGenerator for Both {
    fn generate(&mut self, service: prost_build::Service, buf: &mut String) {
        self.0.generate(service.clone(), buf);
        self.1.generate(service, buf);
    }

    fn finalize(&mut self, buf: &mut String) {
        self.0.finalize(buf);
        self.1.finalize(buf);
    }

    fn finalize_package(&mut self, package: &str, buf: &mut String) {
        self.0.finalize_package(package, buf);
        self.1.finalize_package(package, buf);
    }
}

/// The request type of every minimodules RPC, as `codec::RequestType`s, so tests can decode any
/// method's requests through the server's decode path.
fn request_types(
    pool: &prost_reflect::DescriptorPool,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut out = String::from(
        "/// The request type of every RPC of every minimodules service.\npub static REQUEST_TYPES: &[codec::RequestType] = &[\n",
    );
    for service in pool.services() {
        if !service.full_name().starts_with("minimodules.") {
            continue;
        }
        for method in service.methods() {
            if method.is_client_streaming() {
                return Err(format!(
                    "{}: client streaming needs its own decode path in codec.rs",
                    method.full_name()
                )
                .into());
            }
            let input = method.input();
            let rust = rust_path(input.full_name())?;
            writeln!(
                out,
                "    codec::RequestType {{ path: {path:?}, message: {message:?}, decode: |b| Box::pin(async move {{ codec::decode_unary::<{rust}>(b).await.map(drop) }}) }},",
                path = format!("/{}/{}", service.full_name(), method.name()),
                message = input.full_name(),
            )?;
        }
    }
    out.push_str("];\n");
    Ok(out)
}

/// The Rust path prost generates for a top-level message of ours.
fn rust_path(full_name: &str) -> Result<String, Box<dyn std::error::Error>> {
    let (package, name) = full_name
        .rsplit_once('.')
        .ok_or_else(|| format!("{full_name} has no package"))?;
    if !package.starts_with("minimodules.") {
        return Err(format!("request type {full_name} is not one of ours").into());
    }
    Ok(format!("crate::{}::{name}", package.replace('.', "::")))
}

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn access_table(
    pool: &prost_reflect::DescriptorPool,
) -> Result<String, Box<dyn std::error::Error>> {
    let ext = pool
        .get_extension_by_name("minimodules.common.v1.access")
        .ok_or("extension minimodules.common.v1.access not found")?;
    let mut out = String::from(
        "/// Every RPC of every minimodules service with its access declaration.\npub static METHODS: &[MethodAccess] = &[\n",
    );
    for service in pool.services() {
        if !service.full_name().starts_with("minimodules.") {
            continue;
        }
        for method in service.methods() {
            let path = format!("/{}/{}", service.full_name(), method.name());
            let options = method.options();
            let declared = options.has_extension(&ext);
            let (roles, permission, public) = if declared {
                read_access(&options.get_extension(&ext))?
            } else {
                (Vec::new(), String::new(), false)
            };
            let roles: Vec<String> = roles.iter().map(|r| format!("Role::{r}")).collect();
            // descriptor.proto's `idempotency_level`: 1 NO_SIDE_EFFECTS, 2 IDEMPOTENT.
            let idempotent = options
                .get_field_by_name("idempotency_level")
                .and_then(|v| v.as_enum_number())
                .is_some_and(|n| n == 1 || n == 2);
            writeln!(
                out,
                "    MethodAccess {{ path: {path:?}, declared: {declared}, public: {public}, roles: &[{}], permission: {permission:?}, server_streaming: {}, idempotent: {idempotent} }},",
                roles.join(", "),
                method.is_server_streaming(),
            )?;
        }
    }
    out.push_str("];\n");
    Ok(out)
}

fn read_access(value: &Value) -> Result<(Vec<String>, String, bool), Box<dyn std::error::Error>> {
    let msg: &DynamicMessage = value.as_message().ok_or("access option is not a message")?;
    let roles_field = msg
        .descriptor()
        .get_field_by_name("roles")
        .ok_or("no roles field")?;
    let enum_desc = roles_field
        .kind()
        .as_enum()
        .ok_or("roles is not an enum")?
        .clone();
    let mut roles = Vec::new();
    if let Some(list) = msg
        .get_field_by_name("roles")
        .as_deref()
        .and_then(Value::as_list)
    {
        for v in list {
            let n = v.as_enum_number().ok_or("role is not an enum value")?;
            let name = enum_desc
                .get_value(n)
                .ok_or("unknown role")?
                .name()
                .to_string();
            // ROLE_OPERATOR -> Operator, matching prost's generated variant names.
            let short = name.trim_start_matches("ROLE_").to_lowercase();
            let mut chars = short.chars();
            let variant = match chars.next() {
                Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
                None => return Err("empty role name".into()),
            };
            roles.push(variant);
        }
    }
    let permission = msg
        .get_field_by_name("permission")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let public = msg
        .get_field_by_name("public")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    Ok((roles, permission, public))
}
