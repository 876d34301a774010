//! A snapshot kept as its cluster is listed: each page's objects are rendered at once, as the
//! snapshot file holds them, into an anonymous temporary file, and the snapshot is written
//! from it, in order, at the end. `posture snapshot` so holds a few pages of objects at a time
//! instead of every object.

use super::{collect_into, ClusterError, ClusterOptions, Listed, Progress, TypeFilter};
use crate::snapshot::{object_element, Snapshot};
use std::io::{self, Read, Seek, Write};

/// A collected cluster whose objects wait in a temporary file.
pub struct Spilled {
    /// The snapshot without its objects.
    pub snapshot: Snapshot,
    file: std::fs::File,
    /// The pages kept, in the order they came.
    pages: Vec<Page>,
}

/// Where one page's rendered objects are in the file.
struct Page {
    ty: usize,
    part: usize,
    at: u64,
    len: u64,
    objects: usize,
}

impl Spilled {
    /// How many objects the snapshot holds.
    pub fn objects(&self) -> usize {
        self.pages.iter().map(|p| p.objects).sum()
    }

    /// Writes the snapshot, byte for byte as [`Snapshot::write`] writes it when it holds its
    /// objects: in the order of the types, then of the lists and pages of each.
    pub fn write(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.pages.sort_by_key(|p| (p.ty, p.part));
        let (file, pages) = (&mut self.file, &self.pages);
        self.snapshot
            .write_with(out, pages.iter().map(|p| p.objects).sum(), |out| {
                for page in pages {
                    file.seek(io::SeekFrom::Start(page.at))?;
                    let copied = io::copy(&mut (&mut *file).take(page.len), out)?;
                    if copied != page.len {
                        return Err(io::Error::other("the temporary file lost objects"));
                    }
                }
                Ok(())
            })
    }
}

/// Takes [`Listed`] events into the file.
struct Spiller {
    file: std::fs::File,
    at: u64,
    pages: Vec<Page>,
    /// The first write that failed: nothing is kept after it.
    failed: Option<io::Error>,
}

impl Spiller {
    fn take(&mut self, listed: Listed) {
        match listed {
            Listed::Start { .. } => {}
            Listed::Page { ty, part, objects } => {
                if self.failed.is_some() {
                    return;
                }
                let mut rendered = Vec::new();
                let written = objects
                    .iter()
                    .try_for_each(|o| object_element(o, &mut rendered))
                    .and_then(|()| self.file.write_all(&rendered));
                match written {
                    Ok(()) => {
                        self.pages.push(Page {
                            ty,
                            part,
                            at: self.at,
                            len: rendered.len() as u64,
                            objects: objects.len(),
                        });
                        self.at += rendered.len() as u64;
                    }
                    Err(e) => self.failed = Some(e),
                }
            }
            Listed::Restart { ty, part } => self.pages.retain(|p| (p.ty, p.part) != (ty, part)),
            Listed::Done { ty, complete } => {
                if !complete {
                    self.pages.retain(|p| p.ty != ty);
                }
            }
        }
    }
}

/// Collects the cluster `options` point at, keeping its objects in a temporary file.
pub async fn collect_spilled(
    options: &ClusterOptions,
    filter: &dyn TypeFilter,
    progress: &dyn Progress,
) -> Result<Spilled, ClusterError> {
    let file = tempfile::tempfile().map_err(ClusterError::Spill)?;
    let (pages, mut listed) = tokio::sync::mpsc::channel(super::PAGES_IN_FLIGHT);
    let spill = async move {
        let mut spiller = Spiller {
            file,
            at: 0,
            pages: Vec::new(),
            failed: None,
        };
        while let Some(event) = listed.recv().await {
            spiller.take(event);
        }
        spiller
    };
    let (collected, spiller) = tokio::join!(collect_into(options, filter, progress, pages), spill);
    let snapshot = collected?;
    if let Some(e) = spiller.failed {
        return Err(ClusterError::Spill(e));
    }
    Ok(Spilled {
        snapshot,
        file: spiller.file,
        pages: spiller.pages,
    })
}
