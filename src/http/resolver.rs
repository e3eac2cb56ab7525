//! Name resolution for the client's agents, through ureq's `Resolver` seam.
//!
//! - An IP literal (`127.0.0.1`, `[::1]`) is its own answer: no lookup and no thread.
//! - A host name is looked up by ureq's `DefaultResolver` (which keeps its bounded wait:
//!   a helper thread only when a timeout applies) and the answer is kept for 60 seconds,
//!   so repeated sends to one host do not resolve (nor start a thread) again.
//! - A failure is never kept: the next send asks again.
//! - The cache holds at most [`MAX_NAMES`] names: a new one makes room by dropping the
//!   expired entries first, then the oldest.
//! - Entries are keyed by host and port alone: the userinfo of an authority (a proxy's
//!   `user:password@`) never reaches the cache.
//! - Both kinds of answer keep to the agent's IP family (`Config::ip_family`; the library
//!   leaves it at ureq's default, any family): a literal of the other family is refused
//!   as ureq's own resolver refuses a name with no address of the wanted family.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a resolved host name is kept.
pub const NAME_TTL: Duration = Duration::from_secs(60);

/// How many host names the cache keeps at most.
pub(crate) const MAX_NAMES: usize = 256;

/// A cache key: the host (as written in the URL, lower-cased) and the port.
type Key = (String, u16);

type Clock = dyn Fn() -> Instant + Send + Sync;

struct Inner {
    ttl: Duration,
    clock: Box<Clock>,
    lookup: Box<dyn Resolver>,
    capacity: usize,
    cache: Mutex<HashMap<Key, (Instant, ResolvedSocketAddrs)>>,
}

/// A resolver shared by all the agents of a client (cloning shares the cache).
#[derive(Clone)]
pub struct CachingResolver(Arc<Inner>);

impl std::fmt::Debug for CachingResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachingResolver")
            .field("ttl", &self.0.ttl)
            .field("capacity", &self.0.capacity)
            .finish_non_exhaustive()
    }
}

impl Default for CachingResolver {
    fn default() -> Self {
        CachingResolver::with_parts(
            NAME_TTL,
            Box::new(Instant::now),
            Box::new(DefaultResolver::default()),
        )
    }
}

impl CachingResolver {
    /// A resolver with its own time to live, clock and lookup (the seams the tests use).
    pub fn with_parts(ttl: Duration, clock: Box<Clock>, lookup: Box<dyn Resolver>) -> Self {
        CachingResolver(Arc::new(Inner {
            ttl,
            clock,
            lookup,
            capacity: MAX_NAMES,
            cache: Mutex::new(HashMap::new()),
        }))
    }

    /// How many names the cache holds now (for tests).
    pub fn cached_names(&self) -> usize {
        self.0.cache.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Makes room for one more entry in a full cache: drops the expired entries, then, when
/// none was, the oldest.
fn make_room(cache: &mut HashMap<Key, (Instant, ResolvedSocketAddrs)>, capacity: usize, ttl: Duration, now: Instant) {
    if cache.len() < capacity {
        return;
    }
    cache.retain(|_, (at, _)| now.saturating_duration_since(*at) < ttl);
    while cache.len() >= capacity {
        let Some(oldest) = cache.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone()) else {
            return;
        };
        cache.remove(&oldest);
    }
}

/// The port of `uri`: explicit, or the scheme's default.
fn port_of(uri: &Uri) -> Option<u16> {
    let authority = uri.authority()?;
    authority.port_u16().or_else(|| match uri.scheme_str()? {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    })
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let Some(authority) = uri.authority() else {
            return self.0.lookup.resolve(uri, config, timeout);
        };
        let Some(port) = port_of(uri) else {
            return self.0.lookup.resolve(uri, config, timeout);
        };
        // `host()` leaves out any userinfo and the port.
        let host = authority.host();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            let addr = SocketAddr::new(ip, port);
            if config.ip_family().keep_wanted(std::iter::once(addr)).next().is_none() {
                return Err(ureq::Error::HostNotFound);
            }
            let mut out = self.empty();
            out.push(addr);
            return Ok(out);
        }
        let key: Key = (host.to_ascii_lowercase(), port);
        let now = (self.0.clock)();
        {
            let cache = self.0.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, addrs)) = cache.get(&key) {
                if now.saturating_duration_since(*at) < self.0.ttl {
                    return Ok(addrs.clone());
                }
            }
        }
        let addrs = self.0.lookup.resolve(uri, config, timeout)?;
        let mut cache = self.0.cache.lock().unwrap_or_else(|p| p.into_inner());
        if !cache.contains_key(&key) {
            make_room(&mut cache, self.0.capacity, self.0.ttl, now);
        }
        cache.insert(key, (now, addrs.clone()));
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A lookup that counts its calls and answers 10.0.0.<n> on the n-th call.
    #[derive(Debug, Default)]
    struct Counting(Arc<AtomicU32>, bool);

    impl Resolver for Counting {
        fn resolve(
            &self,
            uri: &Uri,
            _: &Config,
            _: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            if self.1 {
                return Err(ureq::Error::HostNotFound);
            }
            let mut out = self.empty();
            out.push(SocketAddr::new(
                IpAddr::from([10, 0, 0, n as u8]),
                port_of(uri).unwrap(),
            ));
            Ok(out)
        }
    }

    fn timeout() -> NextTimeout {
        NextTimeout::default()
    }

    fn setup(fail: bool) -> (CachingResolver, Arc<AtomicU32>, Arc<Mutex<Instant>>) {
        let calls = Arc::new(AtomicU32::new(0));
        let now = Arc::new(Mutex::new(Instant::now()));
        let clock_now = now.clone();
        let r = CachingResolver::with_parts(
            NAME_TTL,
            Box::new(move || *clock_now.lock().unwrap()),
            Box::new(Counting(calls.clone(), fail)),
        );
        (r, calls, now)
    }

    fn first(r: &CachingResolver, url: &str) -> Result<SocketAddr, ureq::Error> {
        let config = ureq::Agent::config_builder().build();
        r.resolve(&url.parse().unwrap(), &config, timeout())
            .map(|a| a[0])
    }

    #[test]
    fn ip_literals_are_not_looked_up() {
        let (r, calls, _) = setup(false);
        assert_eq!(
            first(&r, "http://127.0.0.1:8080/x").unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            first(&r, "https://[::1]/x").unwrap(),
            "[::1]:443".parse().unwrap()
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_name_is_kept_for_the_ttl_and_looked_up_again_after() {
        let (r, calls, now) = setup(false);
        let a = first(&r, "https://crm.example:8443/x").unwrap();
        *now.lock().unwrap() += Duration::from_secs(59);
        assert_eq!(first(&r, "https://crm.example:8443/y").unwrap(), a);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "cached within 60 s");
        *now.lock().unwrap() += Duration::from_secs(2);
        let b = first(&r, "https://crm.example:8443/z").unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "looked up again after expiry"
        );
        assert_ne!(a, b, "the changed answer is seen after expiry");
        // Another port is another entry.
        first(&r, "https://crm.example:9443/x").unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn failures_are_not_kept() {
        let (r, calls, _) = setup(true);
        assert!(first(&r, "https://nowhere.example/x").is_err());
        assert!(first(&r, "https://nowhere.example/x").is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn the_cache_is_bounded_dropping_expired_entries_first_then_the_oldest() {
        let (r, calls, now) = setup(false);
        for i in 0..MAX_NAMES {
            first(&r, &format!("https://n{i}.example/x")).unwrap();
            *now.lock().unwrap() += Duration::from_millis(1);
        }
        assert_eq!(r.cached_names(), MAX_NAMES);
        // A new name in a full cache drops the oldest entry, and that one alone.
        first(&r, "https://new.example/x").unwrap();
        assert_eq!(r.cached_names(), MAX_NAMES);
        let looked_up = calls.load(Ordering::SeqCst);
        first(&r, "https://n1.example/x").unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), looked_up, "the second oldest is still kept");
        first(&r, "https://n0.example/x").unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), looked_up + 1, "the oldest was dropped");
        // Once they have expired, all of them go to make room, not just one.
        *now.lock().unwrap() += NAME_TTL;
        first(&r, "https://later.example/x").unwrap();
        assert_eq!(r.cached_names(), 1, "expired entries are dropped first");
        for i in 0..1000 {
            first(&r, &format!("https://m{i}.example/x")).unwrap();
        }
        assert_eq!(r.cached_names(), MAX_NAMES);
    }

    #[test]
    fn the_key_is_host_and_port_without_userinfo() {
        let (r, calls, _) = setup(false);
        let a = first(&r, "http://proxyuser:s3cr3t-pw@Proxy.Example:3128").unwrap();
        let b = first(&r, "http://other:another-pw@proxy.example:3128").unwrap();
        let c = first(&r, "https://proxy.example:3128/x").unwrap();
        assert_eq!((a, b, c), (a, a, a));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one entry for one host and port");
        let cache = r.0.cache.lock().unwrap();
        let keys: Vec<_> = cache.keys().cloned().collect();
        assert_eq!(keys, [("proxy.example".to_string(), 3128)]);
        assert!(!format!("{keys:?}").contains("pw"), "no userinfo in the cache: {keys:?}");
    }

    #[test]
    fn ip_literals_keep_to_the_agents_ip_family() {
        use ureq::config::IpFamily;
        let (r, calls, _) = setup(false);
        let resolve = |family: IpFamily, url: &str| {
            let config = ureq::Agent::config_builder().ip_family(family).build();
            r.resolve(&url.parse().unwrap(), &config, timeout()).map(|a| a[0])
        };
        assert!(resolve(IpFamily::Any, "http://[::1]:80/").is_ok());
        assert!(resolve(IpFamily::Ipv4Only, "http://127.0.0.1:80/").is_ok());
        assert!(matches!(resolve(IpFamily::Ipv4Only, "http://[::1]:80/"), Err(ureq::Error::HostNotFound)));
        assert!(matches!(resolve(IpFamily::Ipv6Only, "http://127.0.0.1:80/"), Err(ureq::Error::HostNotFound)));
        assert!(resolve(IpFamily::Ipv6Only, "http://[::1]:80/").is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }
}
