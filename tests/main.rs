//! One integration-test binary (so it links once), a module per area.

mod architecture;
mod benchmark;
mod cli;
mod cluster;
mod common;
mod compliance;
mod compose;
mod corpus;
mod coverage;
mod ecs;
mod engine;
mod fix;
mod fleet;
mod formats;
mod fuzz;
mod gate;
mod hardening;
mod lab;
mod node;
mod packaging;
mod pss;
mod render;
mod report;
mod rules;
mod summary;
mod table;
