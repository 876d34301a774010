//! Sources: everything that reads the outside world and turns it into [`Resource`]s.
//!
//! All filesystem, network and process I/O lives here (the processes: helm and kustomize, in
//! [`render`]); no policy knowledge.

pub mod cluster;
pub mod manifests;
pub mod node;
pub mod render;
pub mod yaml;

use crate::problem::Problem;
use crate::resource::Resource;

/// What a collector produced: the objects it could read and the problems it met.
#[derive(Debug, Default)]
pub struct Collected {
    pub resources: Vec<Resource>,
    pub problems: Vec<Problem>,
}

impl Collected {
    pub fn extend(&mut self, other: Collected) {
        self.resources.extend(other.resources);
        self.problems.extend(other.problems);
    }
}
