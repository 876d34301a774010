//! Reading an input file (or standard input) whole as text, within a size bound: manifests,
//! baselines, node facts, snapshots and config files are read whole, so without a bound
//! `-f /dev/zero` or an endless pipe would exhaust memory. Encoding mistakes (UTF-16 from a
//! Windows editor, binary files) get a message that says what the file is.

use crate::resource::Position;
use std::io::Read;
use std::path::Path;

/// The default bound on one input (`--max-input-size`): far above any real manifest set,
/// below what would take the machine down.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 256 << 20;

/// Why an input could not be read as text.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read file: {0}")]
    Io(#[source] std::io::Error),
    #[error(
        "larger than the input size limit of {} (--max-input-size); raise the limit to read it",
        human_bytes(*.limit)
    )]
    TooLarge { limit: u64 },
    #[error(
        "the file is UTF-16 text ({0}); posture reads UTF-8: convert it, e.g. \
         `iconv -f UTF-16 -t UTF-8`"
    )]
    Utf16(&'static str),
    #[error("not UTF-8 text: an invalid byte at line {}, column {}", .0.line, .0.column)]
    NotUtf8(Position),
}

/// `path` (or standard input for `-`) as UTF-8 text of at most `limit` bytes. A UTF-8 byte
/// order mark is dropped.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = if path.as_os_str() == "-" {
        read_limited(std::io::stdin().lock(), limit)?
    } else {
        let file = std::fs::File::open(path).map_err(ReadError::Io)?;
        read_limited(file, limit)?
    };
    decode(bytes)
}

fn read_limited(reader: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    // One byte more than the limit tells a file of exactly `limit` bytes from a larger one.
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

fn decode(bytes: Vec<u8>) -> Result<String, ReadError> {
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(ReadError::Utf16("little-endian byte order mark"));
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::Utf16("big-endian byte order mark"));
    }
    // Text with a NUL in every other byte is UTF-16 that lost its byte order mark (and ASCII
    // in UTF-16 is valid UTF-8, NULs and all, so it must be caught before decoding).
    let sample = &bytes[..bytes.len().min(64)];
    let nul_at = |parity: usize| sample.iter().skip(parity).step_by(2).all(|b| *b == 0);
    if sample.len() >= 4 && (nul_at(0) || nul_at(1)) {
        return Err(ReadError::Utf16(
            "no byte order mark, NUL in every other byte",
        ));
    }
    let bytes = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let before = &bytes[..at];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        ReadError::NotUtf8(Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        })
    })
}

/// `256 MiB`, `1.5 GiB`, `800 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Parses `256MiB`, `1GiB`, `500M`, `1048576` (bytes) for `--max-input-size`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("'{s}' is not a size (try 256MiB, 1GiB or 500M)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{s}' (use B, KiB, MiB or GiB)"
            ))
        }
    };
    let bytes = n * factor as f64;
    if !(1.0..=(1u64 << 40) as f64).contains(&bytes) {
        return Err(format!("'{s}' is out of range (1 byte to 1 TiB)"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_larger_input_is_refused_naming_the_bound() {
        let err = read_limited(std::io::repeat(0).take(2000), 1024).unwrap_err();
        assert_eq!(
            err.to_string(),
            "larger than the input size limit of 1 KiB (--max-input-size); raise the limit to read it"
        );
        assert_eq!(read_limited(&b"abc"[..], 3).unwrap(), b"abc");
    }

    /// A UTF-16 file got "invalid utf-8 … index 0" with no hint and no line.
    #[test]
    fn utf16_and_binary_files_say_what_they_are() {
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("apiVersion: v1".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert!(matches!(decode(utf16), Err(ReadError::Utf16(_))));
        let no_bom: Vec<u8> = "kind: Pod"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(matches!(decode(no_bom), Err(ReadError::Utf16(_))));
        let err = decode(b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not UTF-8 text: an invalid byte at line 2, column 4"
        );
        assert_eq!(decode(b"\xEF\xBB\xBFa: 1".to_vec()).unwrap(), "a: 1");
    }

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_bytes("256MiB"), Ok(256 << 20));
        assert_eq!(parse_bytes("1G"), Ok(1 << 30));
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert!(parse_bytes("99999999999999999999GiB").is_err());
        assert!(parse_bytes("lots").is_err());
        assert_eq!(human_bytes(256 << 20), "256 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
