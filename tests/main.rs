//! One integration-test binary (so it links once), a module per area.

mod common;
mod rules;
