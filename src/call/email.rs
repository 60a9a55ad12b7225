//! `user_email`: which text can name a user. The loader (`scripts/lib/records.mjs`, `userEmail`) refuses
//! exactly what this refuses, so every user it stores can be filtered by; both are checked against the
//! same vectors (`tests/vectors/user-emails.json`).

/// A trimmed email address, matched case-insensitively (by `users.email`'s NOCASE collation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEmail(String);

/// The text is not an email address this service can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidEmail;

impl UserEmail {
    pub const MAX_LEN: usize = 254;
    pub const MAX_LOCAL_LEN: usize = 64;

    /// Surrounding White_Space is trimmed. Then: exactly one `@` with text on both sides, at most
    /// [`Self::MAX_LOCAL_LEN`] bytes before it and [`Self::MAX_LEN`] in all, and no White_Space, control,
    /// invisible formatting or quoting (`"(),:;<>[\]`) character anywhere. Non-ASCII letters are allowed
    /// (internationalized addresses), and so are dots anywhere (`first..last@` exists in real data).
    pub fn parse(text: &str) -> Result<Self, InvalidEmail> {
        let email = text.trim();
        let (local, domain) = email.split_once('@').ok_or(InvalidEmail)?;
        let forbidden = |c: char| {
            c.is_whitespace()
                || c.is_control()
                || is_invisible_format(c)
                || "\"(),:;<>@[\\]".contains(c)
        };
        let valid = !local.is_empty()
            && !domain.is_empty()
            && local.len() <= Self::MAX_LOCAL_LEN
            && email.len() <= Self::MAX_LEN
            && !local.contains(forbidden)
            && !domain.contains(forbidden);
        if valid {
            Ok(Self(email.to_owned()))
        } else {
            Err(InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Invisible formatting characters (Unicode category Cf in common use): soft hyphen, zero-width and
/// joiner characters, bidirectional controls, word joiners, the byte-order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Vectors {
        accepted: Vec<Accepted>,
        refused: Vec<String>,
    }

    #[derive(serde::Deserialize)]
    struct Accepted {
        input: String,
        email: String,
    }

    #[test]
    fn agrees_with_the_shared_vectors() {
        let vectors: Vectors =
            serde_json::from_str(include_str!("../../tests/vectors/user-emails.json")).unwrap();
        assert!(vectors.accepted.len() >= 15 && vectors.refused.len() >= 30);
        for case in &vectors.accepted {
            assert_eq!(
                UserEmail::parse(&case.input).map(|e| e.as_str().to_owned()),
                Ok(case.email.clone()),
                "{:?}",
                case.input
            );
        }
        for input in &vectors.refused {
            assert_eq!(UserEmail::parse(input), Err(InvalidEmail), "{input:?}");
        }
    }
}
