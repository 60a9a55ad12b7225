//! A URL query string (`a=1&b=%2B2`) as decoded name/value pairs, the way HTML forms encode them.

/// Bad percent-encoding, or bytes that are not UTF-8 once decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedQuery;

/// Splits `a=1&b=2` into decoded pairs: `+` is a space, `%XX` a byte, and the result must be UTF-8.
/// Empty pieces (`a=1&&b=2`) are skipped; a name without `=` has the empty value.
pub fn decode_pairs(query: &str) -> Result<Vec<(String, String)>, MalformedQuery> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            Ok((percent_decode(name)?, percent_decode(value)?))
        })
        .collect()
}

fn percent_decode(text: &str) -> Result<String, MalformedQuery> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(MalformedQuery)?;
                let digit = |b: u8| (b as char).to_digit(16).ok_or(MalformedQuery);
                out.push((digit(hex[0])? * 16 + digit(hex[1])?) as u8);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| MalformedQuery)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pairs_like_a_form() {
        assert_eq!(
            decode_pairs("a=1&&b=%2B2+3&c&=x").unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "+2 3".into()),
                ("c".into(), "".into()),
                ("".into(), "x".into())
            ]
        );
        assert_eq!(
            decode_pairs("e=%C3%A9%40x.io").unwrap(),
            vec![("e".into(), "é@x.io".into())]
        );
        assert!(decode_pairs("").unwrap().is_empty());
    }

    #[test]
    fn refuses_malformed_encoding() {
        for query in ["a=%", "a=%4", "a=%zz", "a=%+1", "a=%FF", "%C3=1"] {
            assert_eq!(decode_pairs(query), Err(MalformedQuery), "{query}");
        }
    }
}
