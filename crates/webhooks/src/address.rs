//! Where a webhook may send: `http`/`https` URLs whose host resolves to public addresses
//! only (no loopback, private, link-local, multicast, unspecified, IPv4-mapped or metadata
//! address), unless the server runs with `--webhook-allow-private`.
//!
//! The rule is applied twice: to the URL when it is registered or changed (422 naming
//! `url`), and to the address actually connected at each delivery (the worker's resolver,
//! [`crate::worker`], drops forbidden addresses), so a name that resolves to a public
//! address at registration and to a private one later (DNS rebinding) is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs as _};

use awc::http::Uri;

/// The longest URL accepted.
pub const URL_MAX: usize = 2000;

/// Why an address is refused, or `None` for a public address.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("a cloud metadata address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_broadcast() || a >= 240 {
        Some("a reserved address")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some("a cloud metadata address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip.to_ipv4_mapped().is_some() {
        Some("an IPv4-mapped address")
    } else if segments[0] & 0xfe00 == 0xfc00 {
        Some("a private address")
    } else if segments[0] & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || segments[..6] == [0; 6] {
        // NAT64 (64:ff9b::/96) and the old IPv4-compatible form (::/96) reach IPv4 hosts.
        let v4 =
            Ipv4Addr::new((segments[6] >> 8) as u8, segments[6] as u8, (segments[7] >> 8) as u8, segments[7] as u8);
        forbidden_v4(v4).map(|_| "an IPv4 address in IPv6 form")
    } else {
        None
    }
}

/// A URL that passed [`parse`]: its scheme is http or https and it has a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given (trimmed).
    pub url: String,
    /// The host, without brackets for IPv6.
    pub host: String,
    /// The port (the scheme's default when none is given).
    pub port: u16,
}

impl Target {
    /// The host as an IP address, when the URL names one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

/// Checks the form of a webhook URL: absolute `http`/`https` with a host, no user
/// information, at most [`URL_MAX`] characters. The message says what is wrong.
pub fn parse(url: &str) -> Result<Target, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("must not be empty".into());
    }
    if url.chars().count() > URL_MAX {
        return Err(format!("must be at most {URL_MAX} characters"));
    }
    let uri: Uri = url.parse().map_err(|_| "must be an absolute http or https URL".to_string())?;
    let default_port = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return Err("must be an http or https URL".into()),
    };
    let Some(authority) = uri.authority() else { return Err("must name a host".into()) };
    if authority.as_str().contains('@') {
        return Err("must not carry a user name or password".into());
    }
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    if host.is_empty() {
        return Err("must name a host".into());
    }
    Ok(Target { url: url.to_string(), host, port: authority.port_u16().unwrap_or(default_port) })
}

/// Resolves `target`'s host (blocking: call it on the blocking pool, never inside a
/// write) and refuses it unless every address is public. The message says why.
pub fn check_resolved(target: &Target) -> Result<(), String> {
    let addresses: Vec<SocketAddr> = match target.ip() {
        Some(ip) => vec![SocketAddr::new(ip, target.port)],
        None => (target.host.as_str(), target.port)
            .to_socket_addrs()
            .map_err(|_| format!("host {} does not resolve", target.host))?
            .collect(),
    };
    if addresses.is_empty() {
        return Err(format!("host {} does not resolve", target.host));
    }
    for address in addresses {
        if let Some(why) = forbidden(address.ip()) {
            return Err(format!(
                "resolves to {why} ({}); such receivers are refused unless the server runs with \
                 --webhook-allow-private",
                address.ip()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused_and_public_ones_pass() {
        for refused in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.169.254",
            "169.254.1.1",
            "224.0.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::a00:1",
            "::127.0.0.1",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(forbidden(ip).is_some(), "{refused} must be refused");
        }
        for allowed in
            ["8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.32.0.1", "2001:4860::8888", "64:ff9b::808:808"]
        {
            let ip: IpAddr = allowed.parse().unwrap();
            assert_eq!(forbidden(ip), None, "{allowed} is public");
        }
        assert_eq!(forbidden("169.254.169.254".parse().unwrap()), Some("a cloud metadata address"));
    }

    #[test]
    fn urls_must_be_http_with_a_host_and_no_credentials() {
        let target = parse(" https://Example.com/hook ").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("example.com", 443));
        assert_eq!(parse("http://[::1]:8080/x").unwrap().ip(), Some("::1".parse().unwrap()));
        for bad in [
            "",
            "ftp://example.com/",
            "example.com/hook",
            "/relative",
            "http://user:pw@example.com/",
            "javascript:alert(1)",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(parse(&format!("https://example.com/{}", "a".repeat(URL_MAX))).is_err());
    }

    #[test]
    fn loopback_literals_and_names_are_refused_after_resolving() {
        assert!(check_resolved(&parse("http://127.0.0.1:9/x").unwrap()).unwrap_err().contains("loopback"));
        assert!(check_resolved(&parse("http://localhost:9/x").unwrap()).is_err());
        assert!(check_resolved(&parse("http://no-such-host.invalid/x").unwrap()).unwrap_err().contains("resolve"));
    }
}
