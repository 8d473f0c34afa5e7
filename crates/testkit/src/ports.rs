//! Ports a test chooses before the process that listens on them starts.

/// A free TCP port on 127.0.0.1 below the kernel's ephemeral range.
///
/// A port taken with `bind(":0")` comes from the ephemeral range, the same range every outgoing
/// connection draws its local port from: between choosing it and the server binding it, any
/// process's connection to PostgreSQL, Redis or a sibling module may take it ("Address already
/// in use", seen in the mesh). Below that range only an explicit bind can take a port.
pub fn free_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let floor = 10_000u16.min(low.saturating_sub(1_000));
    let span = u128::from(low - floor);
    for _ in 0..200 {
        let pick = floor + u16::try_from(uuid::Uuid::new_v4().as_u128() % span).unwrap_or(0);
        if std::net::TcpListener::bind(("127.0.0.1", pick)).is_ok() {
            return pick;
        }
    }
    panic!("no free port between {floor} and {low}")
}
