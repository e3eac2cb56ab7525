//! The process-wide table of credentials: one slot per identity, shared by every client
//! of that identity, and one private slot per client that opted out
//! (`so_options_set_shared_credentials(o, 0)`).
//!
//! - **Keys** are SHA-256 digests (through `ring`) of everything that decides what the
//!   login service answers ([`identity`]): never the secrets themselves.
//! - **In memory only.** A slot holds the credential, its expiry, the JWKS and the
//!   OAuth refresh token in use; [`forget_all`] wipes every slot and empties the table.
//! - **No lock across the network.** The table's lock is held for a map lookup, a slot's
//!   lock to read or store its state: the login itself runs with no lock held (see
//!   `provider.rs`).
//! - **fork().** The `pthread_atfork` handlers (registered by the C shell) hold the
//!   table's lock across `fork()` ([`before_fork`]), and the child empties its copy of
//!   the table ([`after_fork_in_child`]): a child never locks a slot another thread of the
//!   parent held, never waits for a login that thread was making, and never sees a
//!   credential half obtained. It logs in itself when it needs a credential.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::provider::SlotState;

/// A slot: the state of one identity's credential, and the condition its waiters wait on.
#[derive(Default)]
pub struct Slot {
    state: Mutex<SlotState>,
    /// Notified whenever a login ends (obtained or failed) and when the slot is wiped.
    pub(super) landed: Condvar,
}

impl Slot {
    pub(super) fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The key of a slot: the digest of an identity, or a client's own (opted out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Shared([u8; 32]),
    Private(u64),
}

/// The slots by key.
type Slots = BTreeMap<Key, Arc<Slot>>;

/// The table of this process.
static TABLE: Mutex<Slots> = Mutex::new(BTreeMap::new());
/// Private keys handed out.
static PRIVATE_KEYS: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The table's lock, held by the thread calling `fork()` from [`before_fork`] until
    /// [`after_fork_in_parent`] or [`after_fork_in_child`].
    static HELD_FOR_FORK: RefCell<Option<MutexGuard<'static, Slots>>> = const { RefCell::new(None) };
}

fn lock_table() -> MutexGuard<'static, Slots> {
    TABLE.lock().unwrap_or_else(|p| p.into_inner())
}

/// A new private key (a client that keeps its credential to itself).
pub fn private_key() -> Key {
    Key::Private(PRIVATE_KEYS.fetch_add(1, Ordering::Relaxed))
}

/// The slot of `key`, made when there is none. Making a shared slot also drops the
/// shared slots no client holds and whose credential is gone or expired.
pub(super) fn slot(key: Key) -> Arc<Slot> {
    let mut table = lock_table();
    if let Some(slot) = table.get(&key) {
        return Arc::clone(slot);
    }
    if matches!(key, Key::Shared(_)) {
        table.retain(|k, s| matches!(k, Key::Private(_)) || Arc::strong_count(s) > 1 || s.lock().worth_keeping());
    }
    let slot = Arc::new(Slot::default());
    table.insert(key, Arc::clone(&slot));
    slot
}

/// Removes a client's private slot when the client is dropped, wiping it.
pub(super) fn remove(key: Key) {
    if matches!(key, Key::Private(_)) {
        let removed = lock_table().remove(&key);
        if let Some(slot) = removed {
            slot.lock().wipe();
        }
    }
}

/// Drops and wipes every credential the library obtained in this process, shared or a
/// client's own: each client logs in again on its next send. A login under way when this
/// is called still gives its credential to the send that asked, and keeps it nowhere.
pub fn forget_all() {
    let slots: Vec<Arc<Slot>> = std::mem::take(&mut *lock_table()).into_values().collect();
    for slot in slots {
        slot.lock().wipe();
        slot.landed.notify_all();
    }
}

/// How many slots the table holds and how many of them hold a credential (a test hook:
/// after [`forget_all`] both are 0).
pub fn census() -> (usize, usize) {
    let table = lock_table();
    let holding = table.values().filter(|s| s.lock().holds_credential()).count();
    (table.len(), holding)
}

/// Runs in the thread that calls `fork()`, just before (the `pthread_atfork` prepare
/// handler): takes the table's lock, so that no other thread holds it when the process
/// is copied. The table's lock is never held while a slot's lock is being waited for by
/// another path, nor across the network, so this wait is short.
pub fn before_fork() {
    let guard = lock_table();
    HELD_FOR_FORK.with(|h| *h.borrow_mut() = Some(guard));
}

/// Runs in the parent right after `fork()`: lets go of the table's lock.
pub fn after_fork_in_parent() {
    HELD_FOR_FORK.with(|h| drop(h.borrow_mut().take()));
}

/// Runs in the child right after `fork()`: the child starts with an empty table, so it
/// never uses a credential half obtained, never waits for a login of a thread that does
/// not exist there and never locks a slot such a thread held. The parent's slots are
/// left unreachable, not dropped (nothing is freed or allocated in the handler); then the
/// table's lock is let go.
pub fn after_fork_in_child() {
    HELD_FOR_FORK.with(|h| {
        if let Some(mut table) = h.borrow_mut().take() {
            std::mem::forget(std::mem::take(&mut *table));
        }
    });
}

/// Builds the digest of an identity: each part with its length first, so that no two
/// identities feed the same bytes.
pub struct IdentityDigest(ring::digest::Context);

impl IdentityDigest {
    pub fn new(kind: &str) -> IdentityDigest {
        let mut d = IdentityDigest(ring::digest::Context::new(&ring::digest::SHA256));
        d.part(b"superoffice-ffi credential identity v1");
        d.part(kind.as_bytes());
        d
    }

    /// One part of the identity.
    pub fn part(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update(&(bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// An optional part (absent and empty differ).
    pub fn optional(&mut self, bytes: Option<&[u8]>) -> &mut Self {
        match bytes {
            None => self.part(b"\0absent"),
            Some(b) => self.part(b"\0present").part(b),
        }
    }

    pub fn finish(self) -> Key {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        Key::Shared(out)
    }
}
