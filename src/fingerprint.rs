//! A finding's fingerprint: the first 16 bytes of a SHA-256 digest, written as 32 lowercase
//! hexadecimal digits.
//!
//! Held as its bytes (16 bytes in place, nothing on the heap) rather than as its text (a 24-byte
//! string and 32 bytes on the heap): a large scan holds hundreds of thousands of findings.
//! Reports, baselines, diffs and watch events only ever see the text, which every version has
//! written in the same form, so reports written before read back unchanged. The bytes order as
//! their text does, so sorting by either gives the same order.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// 16 bytes, shown as 32 lowercase hex digits. Made by [`crate::Finding::fingerprint_of`] or
/// parsed from its text; any other text is refused.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fingerprint([u8; Fingerprint::BYTES]);

/// The text of a [`Fingerprint`], made without allocating.
#[derive(Clone, Copy)]
pub struct FingerprintText([u8; Fingerprint::DIGITS]);

/// Text that is not a fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{shown} is not a finding fingerprint: expected 32 lowercase hexadecimal digits")]
pub struct FingerprintError {
    /// The text as quoted in the message, cut short when long.
    shown: String,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Fingerprint {
    pub const BYTES: usize = 16;
    /// The length of the text form.
    pub const DIGITS: usize = 2 * Fingerprint::BYTES;

    pub const fn from_bytes(bytes: [u8; Fingerprint::BYTES]) -> Fingerprint {
        Fingerprint(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; Fingerprint::BYTES] {
        &self.0
    }

    /// The 32 lowercase hex digits.
    pub fn text(&self) -> FingerprintText {
        let mut out = [0; Fingerprint::DIGITS];
        for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0xf)];
        }
        FingerprintText(out)
    }
}

impl FingerprintText {
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into it.
        std::str::from_utf8(&self.0).expect("a fingerprint's text is ASCII hex digits")
    }
}

impl std::ops::Deref for FingerprintText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl FromStr for Fingerprint {
    type Err = FingerprintError;

    fn from_str(s: &str) -> Result<Fingerprint, FingerprintError> {
        fn digit(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            }
        }
        let refuse = || {
            const SHOWN: usize = 48;
            let mut shown: String = s.chars().take(SHOWN).collect();
            if shown.len() < s.len() {
                shown.push('…');
            }
            FingerprintError {
                shown: format!("{shown:?}"),
            }
        };
        let bytes = s.as_bytes();
        if bytes.len() != Fingerprint::DIGITS {
            return Err(refuse());
        }
        let mut out = [0; Fingerprint::BYTES];
        for (b, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            match (digit(pair[0]), digit(pair[1])) {
                (Some(hi), Some(lo)) => *b = hi << 4 | lo,
                _ => return Err(refuse()),
            }
        }
        Ok(Fingerprint(out))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.text())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.text().as_str(), f)
    }
}

impl fmt::Display for FingerprintText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for FingerprintText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fingerprint, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = Fingerprint;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a finding fingerprint (32 lowercase hexadecimal digits)")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Fingerprint, E> {
                s.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "00ff10a9b2c3d4e5f60718293a4b5c6d";

    #[test]
    fn text_reads_back_to_the_same_text() {
        let f: Fingerprint = TEXT.parse().unwrap();
        assert_eq!(f.to_string(), TEXT);
        assert_eq!(&*f.text(), TEXT);
        assert_eq!(format!("{f:?}"), format!("{TEXT:?}"));
        assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{TEXT}\""));
        let back: Fingerprint = serde_json::from_str(&format!("\"{TEXT}\"")).unwrap();
        assert_eq!(back, f);
        assert_eq!(f.as_bytes()[..3], [0x00, 0xff, 0x10]);
    }

    #[test]
    fn anything_but_32_lowercase_hex_digits_is_refused() {
        for bad in [
            "",
            "abc",
            &TEXT[..31],
            &format!("{TEXT}0"),
            &TEXT.to_uppercase(),
            "00ff10a9b2c3d4e5f60718293a4b5c6g",
            "+0ff10a9b2c3d4e5f60718293a4b5c6d",
            "00ff10a9b2c3d4e5f60718293a4b5c6é",
        ] {
            let err = bad.parse::<Fingerprint>().unwrap_err();
            assert!(
                err.to_string().contains("32 lowercase hexadecimal digits"),
                "{err}"
            );
            assert!(serde_json::from_value::<Fingerprint>(bad.into()).is_err());
        }
        assert!(serde_json::from_value::<Fingerprint>(serde_json::json!(12)).is_err());
        let long = "x".repeat(1000);
        assert!(long.parse::<Fingerprint>().unwrap_err().to_string().len() < 200);
    }

    /// Reports are sorted by fingerprint as text in places; the bytes must order the same.
    #[test]
    fn bytes_order_as_their_text() {
        let texts = [
            "00000000000000000000000000000000",
            "0000000000000000000000000000000f",
            "000000000000000000000000000000f0",
            "0a000000000000000000000000000000",
            "a0000000000000000000000000000000",
            "ffffffffffffffffffffffffffffffff",
        ];
        for a in texts {
            for b in texts {
                let (fa, fb): (Fingerprint, Fingerprint) = (a.parse().unwrap(), b.parse().unwrap());
                assert_eq!(fa.cmp(&fb), a.cmp(b), "{a} {b}");
            }
        }
    }
}
