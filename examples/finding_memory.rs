//! Where a scan's findings spend their memory: the inline size of a finding and the heap each
//! field holds, measured by freeing the fields one at a time under a counting allocator.
//! `cargo run --release --example finding_memory -- DIR`.
//!
//! Heap figures are bytes requested from the allocator (its own rounding and headers come on
//! top); text and paths shared between findings count once, when the last copy goes.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed to mimalloc unchanged; only the byte count is kept on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn main() {
    let inputs: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let catalog = posture::scan::load_catalog(&[]).expect("the built-in catalog loads");
    let ev = posture::engine::Evaluator::new(&catalog).expect("the built-in rules compile");
    let c = posture::collect::manifests::collect(&inputs, &Default::default());
    let objects = c.resources.len();
    let mut findings = posture::scan::evaluate(&ev, c).findings;
    let n = findings.len().max(1) as isize;
    let inline = std::mem::size_of::<posture::Finding>();
    println!("{objects} objects, {} findings", findings.len());
    println!("inline: {inline} bytes a finding");
    let mut freed = |name: &str, take: &dyn Fn(&mut posture::Finding)| {
        let before = live();
        findings.iter_mut().for_each(take);
        let bytes = before - live();
        println!("{name}: {} bytes a finding on the heap", bytes / n);
        bytes
    };
    let mut heap = 0;
    heap += freed("message", &|f| f.message = Default::default());
    heap += freed("path", &|f| f.path = posture::finding::empty_path());
    heap += freed("written", &|f| f.written = None);
    heap += freed("fingerprint", &|f| f.fingerprint = Default::default());
    // One stand-in shared by all, so that only the findings' own copies are freed.
    let object = std::sync::Arc::new(posture::ObjectRef {
        api_version: String::new(),
        kind: String::new(),
        namespace: None,
        name: String::new(),
    });
    let origin = std::sync::Arc::new(posture::Origin::Cluster {
        cluster: String::new(),
    });
    heap += freed("object and origin", &|f| {
        f.object = object.clone();
        f.origin = origin.clone();
    });
    println!(
        "total: {} bytes a finding ({} inline, {} heap)",
        inline as isize + heap / n,
        inline,
        heap / n
    );
}
