//! The text of an upload: a decoder that turns UTF-8 (with or without BOM), UTF-16 with BOM or
//! Windows-1252 into UTF-8 as it reads, without ever holding the whole file.
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use std::io::{self, Read};

/// Marker inside the `io::Error` of a body that is not UTF-8 although it was declared so.
#[derive(Debug)]
pub struct CharsetMismatch;

impl std::fmt::Display for CharsetMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the body is not UTF-8 although charset=utf-8 was declared")
    }
}

impl std::error::Error for CharsetMismatch {}

/// True when `err` (or the error it wraps) says the declared UTF-8 charset does not hold.
pub fn is_mismatch(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<CharsetMismatch>())
}

enum Mode {
    /// Nothing read yet: look for a byte-order mark.
    Start,
    /// Only ASCII so far: UTF-8 and Windows-1252 agree.
    Ascii,
    /// UTF-8 (invalid sequences become U+FFFD).
    Utf8,
    /// Another encoding, decoded by encoding_rs.
    Other(encoding_rs::Decoder),
}

/// Decodes a byte stream into UTF-8. Without a byte-order mark or a declared charset, the text
/// is taken as UTF-8 until a byte sequence that is not UTF-8 appears while everything before
/// it was ASCII: then it is Windows-1252 (what Excel writes in Spanish locales).
pub struct TextDecoder<R: Read> {
    inner: R,
    declared: Option<&'static Encoding>,
    mode: Mode,
    raw: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    eof: bool,
    mismatch: bool,
}

const RAW_CHUNK: usize = 64 * 1024;

impl<R: Read> TextDecoder<R> {
    /// A decoder over `inner`; `declared` is the charset named by the request, if any.
    pub fn new(inner: R, declared: Option<&'static Encoding>) -> Self {
        Self {
            inner,
            declared,
            mode: Mode::Start,
            raw: Vec::with_capacity(RAW_CHUNK),
            out: Vec::with_capacity(RAW_CHUNK + 16),
            out_pos: 0,
            eof: false,
            mismatch: false,
        }
    }

    fn read_raw(&mut self) -> io::Result<()> {
        let start = self.raw.len();
        self.raw.resize(start + RAW_CHUNK, 0);
        let n = loop {
            match self.inner.read(&mut self.raw[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.raw.truncate(start);
                    return Err(e);
                }
            }
        };
        self.raw.truncate(start + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// Decodes what is in `raw` into `out`, keeping an incomplete trailing sequence.
    fn decode(&mut self) {
        self.out.clear();
        self.out_pos = 0;
        loop {
            match &mut self.mode {
                Mode::Start => {
                    if self.raw.len() < 3 && !self.eof {
                        return;
                    }
                    self.mode = match Encoding::for_bom(&self.raw) {
                        Some((encoding, bom)) => {
                            self.raw.drain(..bom);
                            if encoding == UTF_8 {
                                Mode::Utf8
                            } else {
                                Mode::Other(encoding.new_decoder_without_bom_handling())
                            }
                        }
                        None => match self.declared {
                            Some(encoding) if encoding == UTF_8 => Mode::Utf8,
                            Some(encoding) => Mode::Other(encoding.new_decoder_without_bom_handling()),
                            None => Mode::Ascii,
                        },
                    };
                }
                Mode::Ascii | Mode::Utf8 => {
                    let (valid, bad) = match std::str::from_utf8(&self.raw) {
                        Ok(_) => (self.raw.len(), None),
                        Err(e) => (e.valid_up_to(), Some(e.error_len())),
                    };
                    if matches!(self.mode, Mode::Ascii) && !self.raw[..valid].is_ascii() {
                        self.mode = Mode::Utf8;
                    }
                    match bad {
                        None => {
                            self.out.extend_from_slice(&self.raw);
                            self.raw.clear();
                            return;
                        }
                        // An incomplete sequence at the end: wait for the next bytes.
                        Some(None) if !self.eof => {
                            self.out.extend_from_slice(&self.raw[..valid]);
                            self.raw.drain(..valid);
                            return;
                        }
                        Some(len) => {
                            if matches!(self.mode, Mode::Ascii) {
                                // Everything before was ASCII, which Windows-1252 shares.
                                self.mode = Mode::Other(WINDOWS_1252.new_decoder_without_bom_handling());
                                continue;
                            }
                            if self.declared == Some(UTF_8) {
                                // Declared UTF-8 but it is not: say so rather than guess.
                                self.mismatch = true;
                                return;
                            }
                            let skip = len.unwrap_or(self.raw.len() - valid);
                            self.out.extend_from_slice(&self.raw[..valid]);
                            self.out.extend_from_slice("\u{FFFD}".as_bytes());
                            self.raw.drain(..valid + skip);
                        }
                    }
                }
                Mode::Other(decoder) => {
                    let needed = decoder.max_utf8_buffer_length(self.raw.len()).unwrap_or(self.raw.len() * 3 + 16);
                    let start = self.out.len();
                    self.out.resize(start + needed, 0);
                    let (_, read, written, _) = decoder.decode_to_utf8(&self.raw, &mut self.out[start..], self.eof);
                    self.out.truncate(start + written);
                    self.raw.drain(..read);
                    return;
                }
            }
        }
    }
}

impl<R: Read> Read for TextDecoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if self.eof && self.raw.is_empty() {
                return Ok(0);
            }
            if !self.eof {
                self.read_raw()?;
            }
            self.decode();
            if self.mismatch {
                return Err(io::Error::other(CharsetMismatch));
            }
            if self.eof && self.out.is_empty() && !self.raw.is_empty() {
                // Leftover bytes that can never complete a character.
                self.raw.clear();
                self.out.extend_from_slice("\u{FFFD}".as_bytes());
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` in pieces of `step` bytes, like a network would.
    struct Pieces(Vec<u8>, usize, usize);

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len() - self.2);
            buf[..n].copy_from_slice(&self.0[self.2..self.2 + n]);
            self.2 += n;
            Ok(n)
        }
    }

    fn decode(bytes: &[u8], step: usize, declared: Option<&'static Encoding>) -> String {
        let mut text = String::new();
        TextDecoder::new(Pieces(bytes.to_vec(), step, 0), declared).read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn utf8_with_or_without_bom_passes_through_whatever_the_chunking() {
        let text = "código;título\nH-1;Gestión de contraseñas\n";
        for step in [1, 2, 3, 7, 4096] {
            assert_eq!(decode(text.as_bytes(), step, None), text);
            let mut with_bom = vec![0xEF, 0xBB, 0xBF];
            with_bom.extend_from_slice(text.as_bytes());
            assert_eq!(decode(&with_bom, step, None), text);
        }
    }

    #[test]
    fn windows_1252_is_recognised_even_after_a_long_ascii_prefix() {
        let mut bytes = "a".repeat(200_000).into_bytes();
        bytes.extend_from_slice(b"\nC\xf3digo;T\xedtulo \x80\n");
        let text = decode(&bytes, 1000, None);
        assert!(text.ends_with("\nCódigo;Título €\n"), "{}", &text[text.len() - 30..]);
    }

    #[test]
    fn utf16_with_bom_and_declared_charsets_are_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Título".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(&bytes, 3, None), "Título");
        assert_eq!(decode(b"T\xedtulo", 2, Some(WINDOWS_1252)), "Título");
    }

    #[test]
    fn broken_utf8_after_real_utf8_is_replaced_not_fatal() {
        assert_eq!(
            decode("ñ \u{00e9}".as_bytes().iter().chain(b" \xff x").copied().collect::<Vec<_>>().as_slice(), 2, None),
            "ñ é \u{FFFD} x"
        );
    }
}
