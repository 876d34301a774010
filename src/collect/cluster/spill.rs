//! A snapshot kept as its cluster is listed: each page's objects are rendered at once, as the
//! snapshot file holds them, into an anonymous temporary file, and the snapshot is written
//! from it, in order, at the end. `posture snapshot` so holds a few pages of objects at a time
//! instead of every object.

use super::{collect_into, ClusterError, ClusterOptions, Listed, Progress, Standing, TypeFilter};
use crate::snapshot::{object_element, Snapshot};
use std::io::{self, Read, Seek, Write};

/// A collected cluster whose objects wait in a temporary file.
pub struct Spilled {
    /// The snapshot without its objects.
    pub snapshot: Snapshot,
    file: std::fs::File,
    /// The pages kept, in the order the snapshot holds them.
    pages: Vec<Page>,
}

/// Where one page's rendered objects are in the file.
struct Page {
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
    pages: Standing<Page>,
    /// The first write that failed: nothing is kept after it.
    failed: Option<io::Error>,
}

impl Spiller {
    fn take(&mut self, listed: Listed) {
        let (file, at, failed) = (&mut self.file, &mut self.at, &mut self.failed);
        self.pages.take(listed, |objects| {
            if failed.is_some() {
                return None;
            }
            let mut rendered = Vec::new();
            let written = objects
                .iter()
                .try_for_each(|o| object_element(o, &mut rendered))
                .and_then(|()| file.write_all(&rendered));
            match written {
                Ok(()) => {
                    let page = Page {
                        at: *at,
                        len: rendered.len() as u64,
                        objects: objects.len(),
                    };
                    *at += page.len;
                    Some(page)
                }
                Err(e) => {
                    *failed = Some(e);
                    None
                }
            }
        });
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
            pages: Standing::default(),
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
        pages: spiller.pages.in_order().collect(),
    })
}
