//! Who a request comes from, for per-client limits (failed logins): the TCP peer, or,
//! when that peer is a proxy the operator named (`--trusted-proxies`), the client that
//! proxy reports in `X-Forwarded-For`.
//!
//! A client can send any `X-Forwarded-For` it likes, so the header counts only when a
//! trusted proxy delivered the request, and only as far as trusted proxies wrote it: the
//! list is read from the right (the hop nearest to us) past every trusted proxy, and the
//! first address that is not one is the client. Whatever a client wrote to the left of it
//! is never read. With no trusted proxies (the default) the header is ignored.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The address logins are counted under when the caller's is unknown (`0.0.0.0`): a
/// library call, or an HTTP request without a peer address (e.g. over a Unix socket).
pub const UNKNOWN_CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

/// The proxies whose `X-Forwarded-For` is believed: addresses or CIDR ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list such as `10.0.0.0/8, 192.168.1.7, fd00::/8`; empty for none.
    fn from_str(list: &str) -> Result<Self, String> {
        list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(parse_net).collect::<Result<_, _>>().map(Self)
    }
}

fn parse_net(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is not an IP address or a CIDR range such as 10.0.0.0/8"))
}

impl TrustedProxies {
    /// True when no proxy is trusted (the header is never read).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client `req` comes from (see the module documentation).
    pub fn client_address(&self, req: &HttpRequest) -> IpAddr {
        let peer = req.peer_addr().map_or(UNKNOWN_CLIENT, |peer| peer.ip());
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect::<Vec<_>>();
        self.client_of(peer, forwarded.into_iter().rev())
    }

    /// The client, given the peer and the `X-Forwarded-For` hops nearest first.
    fn client_of<'a>(&self, peer: IpAddr, hops_nearest_first: impl Iterator<Item = &'a str>) -> IpAddr {
        let mut client = peer;
        for hop in hops_nearest_first {
            if !self.trusts(client) {
                break;
            }
            // What a trusted proxy wrote is an address; anything else ends the walk at the
            // last hop we could name.
            match parse_hop(hop.trim()) {
                Some(ip) => client = ip,
                None => break,
            }
        }
        client.to_canonical()
    }
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or
/// `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|addr| addr.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|_| panic!("{text}"))
    }

    fn client(trusted: &str, peer: &str, header: &str) -> IpAddr {
        let proxies: TrustedProxies = trusted.parse().unwrap_or_default();
        let hops: Vec<&str> = header.split(',').filter(|h| !h.trim().is_empty()).collect();
        proxies.client_of(ip(peer), hops.into_iter().rev())
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        assert_eq!(client("", "198.51.100.9", "203.0.113.5"), ip("198.51.100.9"), "nothing trusted");
        assert_eq!(client("10.0.0.0/8", "198.51.100.9", "203.0.113.5"), ip("198.51.100.9"), "peer not trusted");
        assert_eq!(client("10.0.0.0/8", "10.1.2.3", "203.0.113.5"), ip("203.0.113.5"));
        assert_eq!(client("10.0.0.0/8", "10.1.2.3", ""), ip("10.1.2.3"), "no header: the proxy itself");
    }

    #[test]
    fn the_walk_stops_at_the_first_untrusted_hop_from_the_right() {
        // A client that forges the leftmost entry gains nothing: its real address was
        // appended by the proxy.
        assert_eq!(client("10.0.0.0/8", "10.0.0.1", "1.1.1.1, 203.0.113.5"), ip("203.0.113.5"));
        // Two trusted proxies in a row are skipped.
        assert_eq!(client("10.0.0.0/8", "10.0.0.1", "1.1.1.1, 203.0.113.5, 10.0.0.2"), ip("203.0.113.5"));
        // Garbage ends the walk at the last hop that could be named.
        assert_eq!(client("10.0.0.0/8", "10.0.0.1", "203.0.113.5, unknown"), ip("10.0.0.1"));
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_understood() {
        assert_eq!(client("127.0.0.1", "127.0.0.1", "203.0.113.5:4711"), ip("203.0.113.5"));
        assert_eq!(client("::1", "::1", "[2001:db8::7]:4711"), ip("2001:db8::7"));
        assert_eq!(client("127.0.0.1", "::ffff:127.0.0.1", "203.0.113.5"), ip("203.0.113.5"), "mapped peer");
    }

    #[test]
    fn lists_parse_with_names_of_what_is_wrong() {
        let proxies: TrustedProxies = "10.0.0.0/8, 192.168.1.7 ,fd00::/8".parse().unwrap_or_default();
        assert_eq!(proxies.0.len(), 3);
        assert!("".parse::<TrustedProxies>().is_ok_and(|p| p.is_empty()));
        let err = "10.0.0.0/8,proxy.local".parse::<TrustedProxies>().unwrap_err();
        assert!(err.contains("`proxy.local`"), "{err}");
    }
}
