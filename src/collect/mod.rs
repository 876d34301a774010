//! Sources: everything that reads the outside world and turns it into [`Resource`]s.
//!
//! All filesystem, network and process I/O lives here (the processes: helm and kustomize, in
//! [`render`]); no policy knowledge.

pub mod cluster;
pub mod compose;
pub mod config_file;
pub mod ecs;
pub mod input;
mod kustomize_sources;
pub mod manifests;
pub mod node;
pub mod render;
pub mod spanned;
pub mod template_lines;
pub mod yaml;

use crate::problem::Problem;
use crate::resource::Resource;
use crate::snapshot::Snapshot;

/// What a collector produced: the objects it could read and the problems it met.
#[derive(Debug, Default, Clone)]
pub struct Collected {
    pub resources: Vec<Resource>,
    pub problems: Vec<Problem>,
}

impl Collected {
    /// The objects the engine evaluates: every collected object plus one `KubeletConfiguration`
    /// per node whose configuration was collected; everything missing becomes a problem.
    /// Consumes the snapshot, so a scan does not copy every object.
    pub fn from_snapshot(snapshot: Snapshot) -> Collected {
        let problems = snapshot
            .missing()
            .iter()
            .map(crate::snapshot::NotCollected::problem)
            .collect();
        let origin = crate::resource::Origin::Cluster {
            cluster: snapshot.cluster.name,
        };
        let mut resources: Vec<Resource> = snapshot
            .objects
            .into_iter()
            .filter_map(|o| Resource::from_object(o, origin.clone(), None))
            .collect();
        resources.extend(kubelet_resources(snapshot.nodes, &origin));
        Collected {
            resources,
            problems,
        }
    }

    pub fn extend(&mut self, other: Collected) {
        self.resources.extend(other.resources);
        self.problems.extend(other.problems);
    }
}

/// One `KubeletConfiguration` object per node whose configuration was collected.
fn kubelet_resources(
    nodes: impl IntoIterator<Item = crate::snapshot::NodeEvidence>,
    origin: &crate::resource::Origin,
) -> Vec<Resource> {
    nodes
        .into_iter()
        .filter_map(|n| match n.kubelet_config {
            crate::snapshot::KubeletConfig::Collected { config, source } => Resource::from_object(
                crate::snapshot::kubelet_object(&n.name, &source, config),
                origin.clone(),
                None,
            ),
            crate::snapshot::KubeletConfig::NotCollected { .. } => None,
        })
        .collect()
}
