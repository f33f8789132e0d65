//! Value formats shared by manifest validation and the generated runtime (`templates/runtime/validate.rs`
//! implements the same rules for request input; keep both in step).

/// `local@domain.tld`, without spaces, with one `@` and a dot in the domain.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// An absolute `http` or `https` URL with a host.
pub fn is_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !s.chars().any(char::is_whitespace))
}

/// Lowercase letters, digits, `-` and `_`.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The canonical 8-4-4-4-12 hex form.
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12]) && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Normalises a decimal literal to exactly `places` fraction digits, checking the digit budget.
pub fn normalize_decimal(raw: &str, max_digits: u32, places: u32) -> Result<String, String> {
    let (neg, body) = match raw.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, raw),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{raw}` is not a decimal number"));
    }
    if frac.len() > places as usize {
        return Err(format!("`{raw}` has more than {places} decimal places"));
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let int_digits = if int == "0" { 0 } else { int.len() };
    if int_digits + places as usize > max_digits as usize {
        return Err(format!("`{raw}` has more than {} digits before the point", max_digits - places));
    }
    let frac = format!("{frac:0<width$}", width = places as usize);
    let sign = if neg { "-" } else { "" };
    Ok(if places == 0 { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(is_email("a@b.io") && !is_email("a@b") && !is_email("a b@c.io") && !is_email("@b.io"));
        assert!(is_url("https://x.io/a") && !is_url("ftp://x") && !is_url("http://"));
        assert!(is_slug("hello-world_2") && !is_slug("Hello"));
        assert!(is_uuid("67e55044-10b1-426f-9247-bb680e5fe0c8") && !is_uuid("67e55044"));
        assert_eq!(normalize_decimal("007.5", 5, 2).as_deref(), Ok("7.50"));
        assert_eq!(normalize_decimal("-0.1", 3, 1).as_deref(), Ok("-0.1"));
        assert!(normalize_decimal("1.234", 5, 2).is_err());
        assert!(normalize_decimal("1000", 5, 2).is_err());
    }
}
