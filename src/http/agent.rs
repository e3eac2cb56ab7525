//! The ureq agent of a client: its configuration, and one pool per process.
//!
//! An agent made before `fork()` would hand the same pooled sockets to parent and child,
//! and one process could read the other's answer. [`ClientAgent`] remembers the process
//! that made its agent; in a new process it makes a fresh one and never touches the
//! inherited agent again (no use, no shutdown, no TLS close): the parent still owns
//! those connections.

use std::sync::Mutex;
use std::time::Duration;

use ureq::config::Config;
use ureq::tls::TlsConfig;
use ureq::unversioned::transport::DefaultConnector;
use ureq::{Agent, Proxy};

use super::resolver::CachingResolver;

use crate::error::Error;
use crate::request::USER_AGENT_VALUE;
use crate::settings::{ProxySetting, Settings};

/// The largest request head the library sends, in bytes: the size of each connection's
/// output buffer. A longer head (a token or header value of tens of KiB) is refused with
/// `SO_ERR_INVALID_ARGUMENT`: ureq stops mid-head, so the server never has a whole request.
pub(crate) const MAX_REQUEST_HEAD: usize = 64 * 1024;

/// What "no limit" means for the total timeout: ureq gives up on the first interrupted
/// system call (a signal, such as a garbage collector's) when it has no timeout, and
/// retries it, keeping the deadline, when it has one. So "none" is this long instead.
pub const NO_LIMIT: Duration = Duration::from_secs(30 * 24 * 3600);

/// Agents inherited from a parent process: kept reachable and never used or dropped,
/// since dropping one could close or shut down connections the parent still uses.
static INHERITED: Mutex<Vec<Agent>> = Mutex::new(Vec::new());

/// The configuration of a client's agent: statuses are answers, no redirects, the
/// client's timeouts, TLS through rustls with verified certificates, `pool_per_host`
/// idle connections per host.
pub fn config(settings: &Settings, pool_per_host: usize) -> Result<Config, Error> {
    let (total, connect) = settings.limits_within(settings.total_timeout);
    let proxy = match &settings.proxy {
        ProxySetting::FromEnvironment => Proxy::try_from_env(),
        ProxySetting::Direct => None,
        ProxySetting::Url(url) => Some(
            Proxy::new(url.expose()).map_err(|_| Error::invalid("the proxy URL is not valid"))?,
        ),
    };
    let tls = TlsConfig::builder()
        .root_certs(crate::tls::root_certs(settings.ca_file.as_deref())?)
        .build();
    Ok(Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_connect(connect)
        .timeout_global(Some(total.unwrap_or(NO_LIMIT)))
        .user_agent(USER_AGENT_VALUE)
        // Each connection's buffers, zero-filled by ureq when it is opened (128 KiB each
        // by default): the input one as large as the largest response head ureq accepts
        // (`max_response_header_size`, 64 KiB), the output one as large as the largest
        // request head the library sends (`MAX_REQUEST_HEAD`; servers refuse heads above
        // 8 to 16 KiB). Halves the memory of the asynchronous send's workers (a
        // connection each) and the time to open their connections.
        .input_buffer_size(64 * 1024)
        .output_buffer_size(MAX_REQUEST_HEAD)
        .max_idle_connections(pool_per_host * 2)
        .max_idle_connections_per_host(pool_per_host)
        .proxy(proxy)
        .tls_config(tls)
        .build())
}

/// An agent whose names go through the client's caching resolver (see resolver.rs).
fn with_resolver(config: Config, resolver: &CachingResolver) -> Agent {
    Agent::with_parts(config, DefaultConnector::default(), resolver.clone())
}

/// A client's agent, remade in each new process.
///
/// The process that made the client reads its agent without a lock: the check is one
/// comparison of the process id with the one recorded at creation. Only a forked
/// process, whose id differs, takes the lock that holds its own agent.
pub struct ClientAgent {
    config: Config,
    resolver: CachingResolver,
    /// The process that made the client, and its agent.
    owner: u32,
    own: Agent,
    /// The agent of a forked process, made the first time that process sends.
    forked: Mutex<Option<(u32, Agent)>>,
}

impl std::fmt::Debug for ClientAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAgent").finish_non_exhaustive()
    }
}

/// Keeps an agent of another process reachable for good (see [`INHERITED`]).
fn inherit(agent: Agent) {
    INHERITED.lock().unwrap_or_else(|p| p.into_inner()).push(agent);
}

impl ClientAgent {
    /// An agent for these settings, owned by this process.
    pub fn new(settings: &Settings, pool_per_host: usize) -> Result<ClientAgent, Error> {
        let config = config(settings, pool_per_host)?;
        let resolver = CachingResolver::default();
        let own = with_resolver(config.clone(), &resolver);
        Ok(ClientAgent { config, resolver, owner: crate::process::id(), own, forked: Mutex::new(None) })
    }

    fn lock_forked(&self) -> std::sync::MutexGuard<'_, Option<(u32, Agent)>> {
        self.forked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The agent of this process (a handle onto the shared pool): made afresh the first
    /// time a new process asks. No lock in the process that made the client.
    pub fn get(&self) -> Agent {
        let pid = crate::process::id();
        if pid == self.owner {
            return self.own.clone();
        }
        let mut forked = self.lock_forked();
        match &*forked {
            Some((p, agent)) if *p == pid => agent.clone(),
            _ => {
                let fresh = with_resolver(self.config.clone(), &self.resolver);
                if let Some((_, inherited)) = forked.replace((pid, fresh.clone())) {
                    inherit(inherited);
                }
                fresh
            }
        }
    }

    /// A new agent with the same configuration and a pool of its own, for this process.
    pub fn fresh(&self) -> Agent {
        with_resolver(self.config.clone(), &self.resolver)
    }

    /// Closes the idle connections and interrupts every request in progress, when the
    /// agent belongs to this process; an inherited agent is left alone.
    pub fn shutdown(&self) {
        let pid = crate::process::id();
        if pid == self.owner {
            self.own.clone().shutdown();
        } else if let Some((p, agent)) = &*self.lock_forked() {
            if *p == pid {
                agent.clone().shutdown();
            }
        }
    }
}

impl Drop for ClientAgent {
    /// A freed client closes its idle connections at once (ureq would otherwise keep
    /// them until the last clone of the agent is gone). In a forked process, the agents
    /// of other processes stay reachable: dropping them could close connections those
    /// processes still use.
    fn drop(&mut self) {
        self.shutdown();
        let pid = crate::process::id();
        if pid != self.owner {
            inherit(self.own.clone());
        }
        if let Some((p, agent)) = &*self.lock_forked() {
            if *p != pid {
                inherit(agent.clone());
            }
        }
    }
}
