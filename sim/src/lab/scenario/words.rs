//! TOML's type errors in words for users: the reader names Rust types
//! ("expected u64", "integer `…` as i128"), which mean nothing to someone
//! writing a scenario file.

/// `message` with Rust type names replaced by what they mean in a file.
pub(super) fn in_words(message: &str) -> String {
    const NAMES: [(&str, &str); 12] = [
        (" as i128", ""),
        ("expected u64", "expected a whole number, 0 or more"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected i64", "expected a whole number"),
        ("expected i32", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
        ("floating point", "decimal number"),
        ("invalid type:", "wrong kind of value:"),
    ];
    NAMES.iter().fold(message.to_string(), |m, (rust, words)| {
        m.replace(rust, words)
    })
}

#[cfg(test)]
mod tests {
    use super::in_words;

    #[test]
    fn rust_type_names_become_words() {
        assert_eq!(
            in_words("invalid type: integer `99999999999999999999` as i128, expected u64"),
            "wrong kind of value: integer `99999999999999999999`, expected a whole number, 0 or more"
        );
        assert_eq!(
            in_words("invalid type: floating point `1.5`, expected u32"),
            "wrong kind of value: decimal number `1.5`, expected a whole number from 0 to 4294967295"
        );
        assert_eq!(in_words("unknown field `x`"), "unknown field `x`");
    }
}
