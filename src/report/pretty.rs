//! Pretty-printed JSON written piece by piece, byte for byte as `serde_json::to_writer_pretty`
//! writes the whole document: the long arrays of a report (findings, SARIF results) are
//! rendered on every core a batch at a time and written as they are done, so a report of half
//! a million findings is never held in memory whole.

pub(crate) use crate::pretty_json::pretty;
use rayon::prelude::*;
use std::io::{self, Write};

/// Elements rendered per task, and tasks per batch written: a batch is all that is held.
const CHUNK: usize = 1024;
const CHUNKS_PER_BATCH: usize = 16;

/// Writes `items` as a JSON array that is the value of a key `depth` levels deep (its `[` on
/// the key's line, its `]` at the key's indent). `render` appends one element as
/// [`pretty`] at `depth + 1`; `state` makes what it may keep between the elements of a chunk
/// (e.g. the rule looked up last).
pub(crate) fn write_array<T: Sync, S>(
    items: &[T],
    depth: usize,
    out: &mut dyn Write,
    state: impl Fn() -> S + Sync,
    render: impl Fn(&mut S, &T, &mut Vec<u8>) -> io::Result<()> + Sync,
) -> io::Result<()> {
    if items.is_empty() {
        return out.write_all(b"[]");
    }
    let mut separator = b",\n".to_vec();
    separator.extend(std::iter::repeat_n(b' ', 2 * (depth + 1)));
    out.write_all(b"[")?;
    for (b, batch) in items.chunks(CHUNK * CHUNKS_PER_BATCH).enumerate() {
        let chunks: Vec<io::Result<Vec<u8>>> = batch
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut buf = Vec::with_capacity(chunk.len() * 1024);
                let mut s = state();
                for item in chunk {
                    buf.extend_from_slice(&separator);
                    render(&mut s, item, &mut buf)?;
                }
                Ok(buf)
            })
            .collect();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let chunk = chunk?;
            // Every element starts with the separator; the array's first has no comma.
            out.write_all(if b == 0 && i == 0 {
                &chunk[1..]
            } else {
                &chunk
            })?;
        }
    }
    out.write_all(b"\n")?;
    out.write_all(&separator[2..2 + 2 * depth])?;
    out.write_all(b"]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pieces_are_the_bytes_of_the_whole_document() {
        for n in [0usize, 1, 3, CHUNK * CHUNKS_PER_BATCH + 5] {
            let items: Vec<serde_json::Value> = (0..n)
                .map(|i| json!({"n": i, "nested": {"list": [i, "a\nb"]}}))
                .collect();
            let whole = json!({"head": 1, "items": items, "tail": {"x": []}});
            let mut expected = Vec::new();
            serde_json::to_writer_pretty(&mut expected, &whole).unwrap();

            let mut doc = b"{\n  \"head\": 1,\n  \"items\": ".to_vec();
            write_array(&items, 1, &mut doc, || (), |_, v, buf| pretty(v, 2, buf)).unwrap();
            doc.extend_from_slice(b",\n  \"tail\": ");
            pretty(&json!({"x": []}), 1, &mut doc).unwrap();
            doc.extend_from_slice(b"\n}");
            assert_eq!(
                String::from_utf8(doc).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
}
