//! Server-side request forgery guard: a webhook URL may not reach loopback, private,
//! link-local, unique-local, unspecified or multicast addresses (IPv4, IPv6 and IPv4-mapped
//! IPv6) unless the operator allow-list (`MEJORA_WEBHOOK_ALLOW_HOSTS`: host names and CIDRs)
//! names the host or the address. Checked when a subscription is written and again at each
//! delivery, on the addresses the HTTP client actually connects to (DNS rebinding).
use crate::config;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Its host resolves to an address that is not public (and not allowed).
    AddressNotAllowed(String),
    /// Its host does not resolve.
    Unresolvable(String),
}

impl Refusal {
    /// Stable code (a field error code of `url`).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::AddressNotAllowed(_) => "address_not_allowed",
            Refusal::Unresolvable(_) => "unresolvable_host",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::AddressNotAllowed(a) => {
                write!(f, "the host resolves to {a}, a loopback, private, link-local or reserved address")
            }
            Refusal::Unresolvable(h) => write!(f, "the host {h} does not resolve"),
        }
    }
}

impl std::error::Error for Refusal {}

/// The operator's allow-list.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    hosts: Vec<String>,
    nets: Vec<IpNet>,
}

impl From<&config::Webhooks> for Policy {
    fn from(settings: &config::Webhooks) -> Self {
        let mut policy = Policy::default();
        for entry in &settings.allow_hosts {
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.nets.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                policy.nets.push(IpNet::from(ip));
            } else {
                policy.hosts.push(entry.trim_end_matches('.').to_ascii_lowercase());
            }
        }
        policy
    }
}

/// Whether `ip` is not a public unicast address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal_v4(v4),
            None => is_internal_v6(v6),
        },
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || a >= 240
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        // IPv4-compatible ::a.b.c.d and NAT64 64:ff9b::/96 carry an IPv4 address.
        || (ip.segments()[..6] == [0, 0, 0, 0, 0, 0] && is_internal_v4(embedded_v4(ip)))
        || (ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && is_internal_v4(embedded_v4(ip)))
}

fn embedded_v4(ip: Ipv6Addr) -> Ipv4Addr {
    let o = ip.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

impl Policy {
    /// Whether `host` is named by the allow-list.
    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host)
    }

    /// Whether a connection to `ip` for `host` may be made.
    pub fn allows(&self, host: &str, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        !is_internal(ip) || self.host_allowed(host) || self.nets.iter().any(|n| n.contains(&ip))
    }

    /// Resolves `host` and keeps its addresses only when every one is allowed.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|_| Refusal::Unresolvable(bare.to_string()))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(Refusal::Unresolvable(bare.to_string()));
        }
        if let Some(bad) = addrs.iter().find(|a| !self.allows(bare, a.ip())) {
            return Err(Refusal::AddressNotAllowed(bad.ip().to_string()));
        }
        Ok(addrs)
    }

    /// Checks the addresses of `url`'s host.
    pub async fn check(&self, url: &url::Url) -> Result<Vec<SocketAddr>, Refusal> {
        let host = url.host_str().ok_or_else(|| Refusal::Unresolvable(String::new()))?;
        self.resolve(host, url.port_or_known_default().unwrap_or(443)).await
    }
}

/// The HTTP client's resolver: it connects only to the addresses [`Policy::resolve`] allows, so
/// a host that resolves to a public address when checked and to a private one when connecting
/// is still refused.
pub struct GuardedResolver(pub Arc<Policy>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs =
                policy.resolve(&host, 0).await.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_internal(ip), "{ip}");
        }
        for ip in ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
        let settings = config::Webhooks {
            allow_hosts: vec!["127.0.0.1/32".into(), "hooks.internal".into()],
            allow_http: true,
            dispatch_interval: None,
            timeout: std::time::Duration::from_secs(15),
            max_connections: 4,
        };
        let policy = Policy::from(&settings);
        assert!(policy.allows("x", "127.0.0.1".parse().unwrap()));
        assert!(policy.allows("x", "::ffff:127.0.0.1".parse().unwrap()));
        assert!(!policy.allows("x", "127.0.0.2".parse().unwrap()));
        assert!(policy.allows("Hooks.Internal", "10.0.0.5".parse().unwrap()));
    }
}
