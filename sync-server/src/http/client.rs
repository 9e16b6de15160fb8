//! Who a request comes from. Behind a reverse proxy every connection comes from the proxy, so
//! the client's address is read from `Forwarded` (RFC 7239) or `X-Forwarded-For`, but only when
//! the connection comes from a proxy the operator named (`--trusted-proxy`): the chain is read
//! from the right, skipping trusted proxies, and the first other address is the client's (what
//! a client writes itself sits further left and is never believed). Rate limits count an IPv6
//! client by its /64, which one household or phone typically holds whole.

use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// The client's address (see the module's description).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<Arc<AppState>> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        // Served with connection info (as `launch` does); an in-process test router without it
        // is a client on this machine.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |ConnectInfo(addr)| addr.ip());
        Ok(ClientAddr(client_address(peer, &parts.headers, &state.settings.trusted_proxies)))
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = canonical(ip);
    proxies.iter().any(|net| net.contains(&ip))
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One hop of a forwarding header: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, quoted or not; `None` for anything else (`unknown`, `_hidden`).
fn hop(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    text.parse::<SocketAddr>().ok().map(|s| s.ip())
}

/// The hops a request names, oldest first: `Forwarded`'s `for=` values when it has any, else
/// `X-Forwarded-For`'s. `None` in place of a hop that is not an address.
fn chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim().eq_ignore_ascii_case("for").then(|| hop(value))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(hop)
        .collect()
}

/// The client's address: the connection's, unless it comes from a trusted proxy; then the
/// rightmost hop that is not a trusted proxy (the connection's when the chain is missing or a
/// hop on the way cannot be read).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(peer, proxies) {
        return canonical(peer);
    }
    let mut last_trusted = canonical(peer);
    for hop in chain(headers).into_iter().rev() {
        match hop {
            Some(ip) if trusted(ip, proxies) => last_trusted = canonical(ip),
            Some(ip) => return canonical(ip),
            None => return last_trusted,
        }
    }
    last_trusted
}

/// The key a rate limit counts a client by: an IPv4 address, or an IPv6 address's /64.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_proxy() {
        let proxies = vec![IpNet::from(ip("10.0.0.2")), "192.168.0.0/24".parse().unwrap_or(IpNet::from(ip("0.0.0.0")))];
        let spoof = headers(&[("x-forwarded-for", "6.6.6.6")]);
        assert_eq!(client_address(ip("203.0.113.9"), &spoof, &proxies), ip("203.0.113.9"), "not from a proxy");
        assert_eq!(client_address(ip("203.0.113.9"), &spoof, &[]), ip("203.0.113.9"), "no proxy configured");
        // The proxy appends the client it saw; what the client wrote itself is further left.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 192.168.0.5")]);
        assert_eq!(client_address(ip("10.0.0.2"), &chain, &proxies), ip("198.51.100.7"));
        let split = headers(&[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(client_address(ip("10.0.0.2"), &split, &proxies), ip("198.51.100.7"));
        // RFC 7239, with ports, quotes and IPv6 brackets; it wins over X-Forwarded-For.
        let forwarded = headers(&[
            ("forwarded", "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(client_address(ip("10.0.0.2"), &forwarded, &proxies), ip("2001:db8:cafe::17"));
        let garbage = headers(&[("x-forwarded-for", "198.51.100.7, not-an-address")]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &garbage, &proxies),
            ip("10.0.0.2"),
            "an unreadable hop stops the walk"
        );
        assert_eq!(client_address(ip("10.0.0.2"), &HeaderMap::new(), &proxies), ip("10.0.0.2"));
        assert_eq!(client_address(ip("::ffff:10.0.0.2"), &chain, &proxies), ip("198.51.100.7"), "IPv4-mapped");
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_slash_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2:bbbb::9")), limit_key(ip("2001:db8:1:2:aaaa::1")));
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), limit_key(ip("2001:db8:1:2::1")));
        assert_eq!(limit_key(ip("198.51.100.7")), ip("198.51.100.7"));
        assert_eq!(limit_key(ip("::ffff:198.51.100.7")), ip("198.51.100.7"));
    }
}
