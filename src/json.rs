//! A small reader of JSON text (RFC 8259) for the few members a reader wants from an object: a key record,
//! a webhook's body, a queue message. Members are visited in order; the reader takes the values it wants and
//! skips the rest, checked but never built (a call's transcript can be most of a megabyte). Instead of a
//! general JSON deserializer in the wasm, whose code (and float parsing) would cost more than this reader.
//! Uses nothing else of the crate.

/// How deep skipped values may nest.
const MAX_DEPTH: usize = 32;

/// A value as a reader takes it: scalars as they are (a number as its text), containers skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    Str(String),
    /// A number's text, as written (`-1.5e3`).
    Number(&'a str),
    Bool(bool),
    Null,
    /// An object or an array: checked, then skipped.
    Container,
}

/// A cursor over JSON text.
pub struct Json<'a> {
    text: &'a str,
    at: usize,
}

/// Reads the whole of `text` with `read`: nothing but whitespace may follow what it reads.
pub fn document<'a, T>(text: &'a str, read: impl FnOnce(&mut Json<'a>) -> Result<T, String>) -> Result<T, String> {
    let mut json = Json { text, at: 0 };
    let value = read(&mut json)?;
    json.skip_whitespace();
    if json.at == text.len() {
        Ok(value)
    } else {
        Err(format!("text after the value at byte {}", json.at))
    }
}

impl<'a> Json<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.bytes().get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let found = self.bytes().get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", byte as char, self.at))
        }
    }

    fn literal(&mut self, word: &str) -> bool {
        let found = self.bytes()[self.at..].starts_with(word.as_bytes());
        self.at += if found { word.len() } else { 0 };
        found
    }

    /// Whether the next value is an object.
    pub fn at_object(&mut self) -> bool {
        self.skip_whitespace();
        self.bytes().get(self.at) == Some(&b'{')
    }

    /// Reads an object, calling `member(self, name)` for each member in order; `member` must read or skip
    /// exactly one value.
    pub fn object(&mut self, mut member: impl FnMut(&mut Self, String) -> Result<(), String>) -> Result<(), String> {
        self.members(&mut member)
    }

    /// [`Self::object`]'s loop, once for every reader (a `dyn` callback: one copy in the wasm).
    fn members(&mut self, member: &mut dyn FnMut(&mut Self, String) -> Result<(), String>) -> Result<(), String> {
        self.expect(b'{')?;
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            let name = self.string(true)?.unwrap_or_default();
            self.expect(b':')?;
            member(self, name)?;
            if self.eat(b'}') {
                return Ok(());
            }
            self.expect(b',')?;
        }
    }

    /// The next value: a scalar taken, a container checked and skipped.
    pub fn value(&mut self) -> Result<Value<'a>, String> {
        self.skip_whitespace();
        match self.bytes().get(self.at) {
            Some(b'"') => Ok(Value::Str(self.string(true)?.unwrap_or_default())),
            Some(b'{' | b'[') => self.skip_in(0).map(|()| Value::Container),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.at;
                self.number()?;
                Ok(Value::Number(&self.text[start..self.at]))
            }
            _ if self.literal("true") => Ok(Value::Bool(true)),
            _ if self.literal("false") => Ok(Value::Bool(false)),
            _ if self.literal("null") => Ok(Value::Null),
            _ => Err(format!("expected a value at byte {}", self.at)),
        }
    }

    /// Checks the next value and skips it, building nothing.
    pub fn skip(&mut self) -> Result<(), String> {
        self.skip_in(0)
    }

    fn skip_in(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("nested too deep".into());
        }
        self.skip_whitespace();
        match self.bytes().get(self.at) {
            Some(b'"') => self.string(false).map(drop),
            Some(b'{' | b'[') => {
                let close = if self.bytes()[self.at] == b'{' { b'}' } else { b']' };
                self.at += 1;
                if self.eat(close) {
                    return Ok(());
                }
                loop {
                    if close == b'}' {
                        self.string(false)?;
                        self.expect(b':')?;
                    }
                    self.skip_in(depth + 1)?;
                    if self.eat(close) {
                        return Ok(());
                    }
                    self.expect(b',')?;
                }
            }
            _ => self.value().map(drop),
        }
    }

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    fn number(&mut self) -> Result<(), String> {
        let bad = || Err("bad number".to_owned());
        self.literal("-");
        if !self.literal("0") && self.digits() == 0 {
            return bad();
        }
        if self.literal(".") && self.digits() == 0 {
            return bad();
        }
        if self.literal("e") || self.literal("E") {
            let _ = self.literal("+") || self.literal("-");
            if self.digits() == 0 {
                return bad();
            }
        }
        Ok(())
    }

    /// A string, built when `keep` (else only checked).
    fn string(&mut self, keep: bool) -> Result<Option<String>, String> {
        self.expect(b'"')?;
        let mut out = keep.then(String::new);
        loop {
            let rest = &self.bytes()[self.at..];
            let Some(end) = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20) else {
                return Err("unterminated string".into());
            };
            if let Some(out) = out.as_mut() {
                // The text is a str and the stop bytes are ASCII: the slice is whole characters.
                out.push_str(&self.text[self.at..self.at + end]);
            }
            self.at += end + 1;
            let escaped = match rest[end] {
                b'"' => return Ok(out),
                b'\\' => self.escape()?,
                _ => return Err("a control character in a string".into()),
            };
            if let Some(out) = out.as_mut() {
                out.push(escaped);
            }
        }
    }

    /// The character an escape (after its backslash) stands for.
    fn escape(&mut self) -> Result<char, String> {
        let escape = self.bytes().get(self.at).copied().ok_or("unterminated string")?;
        self.at += 1;
        Ok(match escape {
            b'"' | b'\\' | b'/' => escape as char,
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                // A high surrogate must be followed by a low one; anything else is a lone surrogate.
                let code = if (0xD800..0xDC00).contains(&high) && self.literal("\\u") {
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err("a lone surrogate".into());
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                char::from_u32(code).ok_or("a lone surrogate")?
            }
            _ => return Err("bad escape".into()),
        })
    }

    /// Skips ASCII digits; how many.
    fn digits(&mut self) -> usize {
        let count = self.bytes()[self.at..].iter().take_while(|b| b.is_ascii_digit()).count();
        self.at += count;
        count
    }

    /// Exactly four hex digits (not a sign: `from_str_radix` would take `+041`).
    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.text.get(self.at..self.at + 4).ok_or("short \\u escape")?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("bad \\u escape".into());
        }
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|_| "bad \\u escape".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every member of an object, each value taken.
    fn members(text: &str) -> Result<Vec<(String, Value<'_>)>, String> {
        document(text, |json| {
            let mut all = Vec::new();
            json.object(|json, name| {
                all.push((name, json.value()?));
                Ok(())
            })?;
            Ok(all)
        })
    }

    #[test]
    fn takes_scalars_with_every_escape_and_skips_containers() {
        let read = members(r#" {"s": "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "n": -1.5e3, "o": {"x": [true, null, "y"]}, "b": false, "z": null, "a": []} "#);
        assert_eq!(
            read,
            Ok(vec![
                ("s".into(), Value::Str("a\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1f600}".into())),
                ("n".into(), Value::Number("-1.5e3")),
                ("o".into(), Value::Container),
                ("b".into(), Value::Bool(false)),
                ("z".into(), Value::Null),
                ("a".into(), Value::Container),
            ])
        );
    }

    #[test]
    fn reads_into_nested_objects_and_skips_the_rest() {
        let text = r#"{"success":true,"data":{"id":"r1","transcripts":[{"text":"a long \"talk\""}],"n":0},"tail":[1,2]}"#;
        let id = document(text, |json| {
            let mut id = None;
            json.object(|json, name| match name.as_str() {
                "data" => json.object(|json, name| match name.as_str() {
                    "id" => json.value().map(|v| id = Some(v)),
                    _ => json.skip(),
                }),
                _ => json.skip(),
            })?;
            Ok(id)
        });
        assert_eq!(id, Ok(Some(Value::Str("r1".into()))));
    }

    #[test]
    fn refuses_what_is_not_json() {
        for text in ["1.2.3", "tru", "-", "01", "1.", "1e", r#""\x""#, r#""\ud800""#, r#""\ud800\u0041""#, r#""\u+041""#, r#""\udc00""#, "\"a\nb\"", "\"open", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "{} x"] {
            assert!(document(text, |json| json.skip()).is_err(), "{text:?}");
        }
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        assert!(document(&deep, |json| json.skip()).is_err(), "nested too deep");
        let fine = format!("{}1{}", "[".repeat(30), "]".repeat(30));
        assert!(document(&fine, |json| json.skip()).is_ok());
        assert!(document("[1]", |json| json.object(|json, _| json.skip())).is_err(), "not an object");
    }
}
