//! HTTP through ureq: the agent of a client ([`agent`]) and what its failures mean
//! ([`classify`]). Every request goes through ureq's `Agent`; nothing here speaks HTTP.

pub mod agent;
pub mod answer;
pub mod classify;
pub mod resolver;

pub use agent::{ClientAgent, NO_LIMIT};
pub use answer::{read_bounded, status_line};
pub use classify::classify;
