//! One integration-test binary (so it links once), a module per area.

mod cli;
mod common;
mod corpus;
mod engine;
mod report;
mod rules;
