//! One integration-test binary (so it links once), a module per area.

mod architecture;
mod benchmark;
mod cli;
mod cluster;
mod common;
mod compliance;
mod compose;
mod corpus;
mod engine;
mod formats;
mod fuzz;
mod gate;
mod identity;
mod lab;
mod node;
mod packaging;
mod render;
mod report;
mod rules;
mod summary;
mod table;
