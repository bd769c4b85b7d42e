//! Entropy comes from the host as hex. The core only checks there is enough of it and
//! hands out slices; it never generates any.

use crate::error::{CoreError, Result};

#[derive(Debug, Clone)]
pub struct HostRandom {
    bytes: Vec<u8>,
    used: usize,
}

impl HostRandom {
    /// Decodes `hex`, which is the named input `field`, and requires at least `min` bytes.
    pub fn from_hex(hex: &str, field: &str, min: usize) -> Result<Self> {
        let bytes = decode_hex(hex).ok_or_else(|| {
            CoreError::field("random_invalid", field, "random bytes must be given as hex")
        })?;
        if bytes.len() < min {
            return Err(CoreError::field(
                "random_too_short",
                field,
                format!(
                    "at least {min} random bytes are needed, got {}",
                    bytes.len()
                ),
            ));
        }
        Ok(Self { bytes, used: 0 })
    }

    /// The next `n` bytes. Callers size their demands within the checked minimum.
    pub fn take(&mut self, n: usize) -> &[u8] {
        let start = self.used.min(self.bytes.len());
        let end = (start + n).min(self.bytes.len());
        self.used = end;
        &self.bytes[start..end]
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut buf = [0u8; 8];
        let got = self.take(8);
        buf[..got.len()].copy_from_slice(got);
        u64::from_le_bytes(buf)
    }
}

/// Hex digits only: `u8::from_str_radix`, used before, also took a leading `+`. One
/// table lookup per digit into a buffer sized once: in the interpreter, collecting through
/// an iterator of `Option`s grew the vector byte by byte.
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    /// Each byte's value as a hex digit, or 0xff.
    static NIBBLE: [u8; 256] = {
        let mut t = [0xffu8; 256];
        let mut i = 0;
        while i < 10 {
            t[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            t[b'a' as usize + i] = 10 + i as u8;
            t[b'A' as usize + i] = 10 + i as u8;
            i += 1;
        }
        t
    };
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 2);
    for p in b.chunks_exact(2) {
        let (hi, lo) = (NIBBLE[p[0] as usize], NIBBLE[p[1] as usize]);
        if (hi | lo) > 15 {
            return None;
        }
        out.push((hi << 4) | lo);
    }
    Some(out)
}

pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_rejects() {
        assert_eq!(decode_hex("00ff10").unwrap(), vec![0, 255, 16]);
        assert_eq!(decode_hex("ABcd").unwrap(), vec![0xab, 0xcd]);
        // Found when the decoder was rewritten: from_str_radix read "+f" as 15.
        assert_eq!(decode_hex("+f"), None);
        assert_eq!(decode_hex("0g"), None);
        assert_eq!(encode_hex(&[0, 255, 16]), "00ff10");
        assert!(decode_hex("0").is_none());
        assert!(decode_hex("zz").is_none());
        // Multi-byte characters must not panic on a non-boundary slice.
        assert!(decode_hex("é1").is_none());
    }

    /// The table agrees with the digits' definition on every pair of bytes.
    #[test]
    fn every_pair_of_bytes_decodes_as_hex_digits_say() {
        let digit = |c: u8| (c as char).to_digit(16).filter(|_| c != b'+');
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let want = digit(a)
                    .zip(digit(b))
                    .map(|(h, l)| vec![(h * 16 + l) as u8]);
                let got = std::str::from_utf8(&[a, b]).ok().map(decode_hex);
                if let Some(got) = got {
                    assert_eq!(got, want, "{a:#x} {b:#x}");
                }
            }
        }
    }

    #[test]
    fn too_little_entropy_is_a_field_error() {
        let e = HostRandom::from_hex("0011", "random", 16).unwrap_err();
        assert_eq!(e.code, "random_too_short");
        assert_eq!(e.field.as_deref(), Some("random"));
    }
}
