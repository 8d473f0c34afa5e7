//! mm-proto: the Rust side of the contracts in proto/. Everything here is generated at build time
//! (build.rs) from the .proto files; nothing is written by hand except this index and `codec`, how
//! the generated servers decode requests. It must not hold business logic: modules and the kernel
//! depend on it, never the other way round.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/_includes.rs"));

pub mod codec;

/// Encoded FileDescriptorSet of every proto (with imports), for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

pub use minimodules::common::v1::Role;

/// The access declaration of one RPC, read from its `(minimodules.common.v1.access)` option.
#[derive(Debug, Clone, Copy)]
pub struct MethodAccess {
    /// gRPC path, "/package.Service/Method".
    pub path: &'static str,
    /// False when the RPC carries no access option: such a method is refused for everyone.
    pub declared: bool,
    /// Anonymous callers allowed.
    pub public: bool,
    /// Roles allowed.
    pub roles: &'static [Role],
    /// Permission name staff need.
    pub permission: &'static str,
    /// Whether the method streams responses.
    pub server_streaming: bool,
    /// Declared safe to repeat (`option idempotency_level`: a read, or a write carrying its own
    /// idempotency key or reservation id): the platform channel retries it after a failed
    /// connection.
    pub idempotent: bool,
}

/// The declaration of the RPC at `path`, if it is one of ours.
pub fn method(path: &str) -> Option<&'static MethodAccess> {
    static BY_PATH: std::sync::LazyLock<
        std::collections::HashMap<&'static str, &'static MethodAccess>,
    > = std::sync::LazyLock::new(|| METHODS.iter().map(|m| (m.path, m)).collect());
    BY_PATH.get(path).copied()
}

include!(concat!(env!("OUT_DIR"), "/access_table.rs"));
include!(concat!(env!("OUT_DIR"), "/request_types.rs"));
