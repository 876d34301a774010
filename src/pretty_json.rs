//! Pretty-printed JSON in pieces: a value rendered at a depth inside a document, byte for
//! byte as `serde_json::to_writer_pretty` renders it within the whole document. Reports write
//! their long arrays so (`report/pretty.rs`), and snapshots their objects.

use serde::Serialize;
use std::io;

/// Appends `value` as `serde_json::to_writer_pretty` writes it `depth` levels deep: every line
/// after the first indented by two spaces per level. Raw newlines in pretty JSON only separate
/// tokens (newlines inside strings are escaped), so indenting after each one is exact.
pub(crate) fn pretty<T: Serialize + ?Sized>(
    value: &T,
    depth: usize,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    if depth == 0 {
        return serde_json::to_writer_pretty(out, value).map_err(io::Error::from);
    }
    let start = out.len();
    serde_json::to_writer_pretty(&mut *out, value)?;
    let newlines = out[start..].iter().filter(|&&b| b == b'\n').count();
    if newlines == 0 {
        return Ok(());
    }
    let indent = 2 * depth;
    let rendered = out.split_off(start);
    out.reserve(rendered.len() + newlines * indent);
    for (i, line) in rendered.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', indent));
        }
        out.extend_from_slice(line);
    }
    Ok(())
}

/// Where, in `doc` (pretty JSON), the first empty array that is the value of `key` `depth`
/// levels deep starts (its `[`): the place a document rendered with that array left empty is
/// filled in. A string value cannot hold the text searched for (its quotes would be escaped)
/// and keys at other depths are indented differently.
pub(crate) fn empty_array_at(doc: &[u8], key: &str, depth: usize) -> Option<usize> {
    let mut hole = b"\n".to_vec();
    hole.extend(std::iter::repeat_n(b' ', 2 * depth));
    hole.extend_from_slice(format!("\"{key}\": []").as_bytes());
    doc.windows(hole.len())
        .position(|w| w == hole)
        .map(|at| at + hole.len() - 2)
}
