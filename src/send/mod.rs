//! The asynchronous and concurrent sends, above the client.
//!
//! - [`operation`]: one asynchronous send, its stage, outcome and cancellation;
//! - [`workers`]: a client's pool of worker threads, which send queued operations;
//! - [`completions`]: a queue of ended operations that one thread of the caller takes in
//!   batches (the C shell's `so_completion_queue`);
//! - [`batch`]: many sends at once, on scoped threads, for the batch call and the CLI.
//!
//! The arrows point one way: `workers` uses `operation` (an operation hands a cancelled
//! job back through the [`operation::Deliver`] seam, which the pool implements);
//! `batch` stands apart.

pub mod batch;
pub mod completions;
pub mod operation;
pub mod workers;
