//! A small reader of JSON text (RFC 8259) for one flat object whose fields are strings, booleans or null
//! (a key record): other values are checked and skipped. Instead of a general JSON deserializer in the
//! wasm, whose code (and float formatting) would cost more than this whole reader.

/// A JSON value as a reader of one flat object needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Bool(bool),
    Null,
    /// A number, object or array: checked, then skipped.
    Other,
}

/// A cursor over JSON text (RFC 8259).
pub struct Json<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Json<'a> {
    pub fn new(text: &'a str) -> Self {
        Self { bytes: text.as_bytes(), at: 0 }
    }

    /// Whether only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.skip_whitespace();
        self.at == self.bytes.len()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    pub fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let found = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    pub fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", byte as char, self.at))
        }
    }

    fn literal(&mut self, word: &str) -> bool {
        let found = self.bytes[self.at..].starts_with(word.as_bytes());
        self.at += if found { word.len() } else { 0 };
        found
    }

    pub fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > 32 {
            return Err("nested too deep".into());
        }
        self.skip_whitespace();
        match self.bytes.get(self.at) {
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') if self.literal("true") => Ok(Value::Bool(true)),
            Some(b'f') if self.literal("false") => Ok(Value::Bool(false)),
            Some(b'n') if self.literal("null") => Ok(Value::Null),
            Some(b'{' | b'[') => {
                let close = if self.bytes[self.at] == b'{' { b'}' } else { b']' };
                self.at += 1;
                if !self.eat(close) {
                    loop {
                        if close == b'}' {
                            self.string()?;
                            self.expect(b':')?;
                        }
                        self.value(depth + 1)?;
                        if self.eat(close) {
                            break;
                        }
                        self.expect(b',')?;
                    }
                }
                Ok(Value::Other)
            }
            Some(b'-' | b'0'..=b'9') => {
                // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
                self.literal("-");
                if !self.literal("0") && self.digits() == 0 {
                    return Err("bad number".into());
                }
                if self.literal(".") && self.digits() == 0 {
                    return Err("bad number".into());
                }
                if (self.literal("e") || self.literal("E")) && {
                    let _ = self.literal("+") || self.literal("-");
                    self.digits() == 0
                } {
                    return Err("bad number".into());
                }
                Ok(Value::Other)
            }
            _ => Err(format!("expected a value at byte {}", self.at)),
        }
    }

    pub fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let rest = &self.bytes[self.at..];
            let plain = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let Some(end) = plain else {
                return Err("unterminated string".into());
            };
            out.push_str(std::str::from_utf8(&rest[..end]).map_err(|_| "not UTF-8")?);
            self.at += end + 1;
            match rest[end] {
                b'"' => return Ok(out),
                b'\\' => {
                    let escape = self.bytes.get(self.at).copied().ok_or("unterminated string")?;
                    self.at += 1;
                    match escape {
                        b'"' | b'\\' | b'/' => out.push(escape as char),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let high = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&high) && self.literal("\\u") {
                                let low = self.hex4()?;
                                0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                high
                            };
                            out.push(char::from_u32(code).ok_or("a lone surrogate")?);
                        }
                        _ => return Err("bad escape".into()),
                    }
                }
                _ => return Err("a control character in a string".into()),
            }
        }
    }

    /// Skips ASCII digits; how many.
    fn digits(&mut self) -> usize {
        let count = self.bytes[self.at..].iter().take_while(|b| b.is_ascii_digit()).count();
        self.at += count;
        count
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or("short \\u escape")?;
        self.at += 4;
        let text = std::str::from_utf8(digits).map_err(|_| "bad \\u escape")?;
        u32::from_str_radix(text, 16).map_err(|_| "bad \\u escape".into())
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_strings_with_every_escape_and_skips_other_values() {
        let mut json = Json::new(r#" ["a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", -1.5e3, {"x": [true, null]}, false, null] "#);
        assert!(json.eat(b'['));
        assert_eq!(json.value(0), Ok(Value::Str("a\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1f600}".into())));
        assert!(json.eat(b','));
        assert_eq!(json.value(0), Ok(Value::Other));
        assert!(json.eat(b','));
        assert_eq!(json.value(0), Ok(Value::Other));
        assert!(json.eat(b','));
        assert_eq!(json.value(0), Ok(Value::Bool(false)));
        assert!(json.eat(b','));
        assert_eq!(json.value(0), Ok(Value::Null));
        assert!(json.eat(b']'));
        assert!(json.at_end());
    }

    #[test]
    fn refuses_what_is_not_json() {
        for text in ["1.2.3", "tru", "-", "01", "1.", "1e", r#""\x""#, r#""\ud800""#, "\"a\nb\"", "\"open", "[1,]", "{\"a\" 1}"] {
            let mut json = Json::new(text);
            let read = json.value(0).and_then(|_| if json.at_end() { Ok(()) } else { Err("text after the value".into()) });
            assert!(read.is_err(), "{text:?}");
        }
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        assert!(Json::new(&deep).value(0).is_err(), "nested too deep");
    }
}
