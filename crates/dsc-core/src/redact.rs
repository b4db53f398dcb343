//! Redaction of personal data and secrets in code, as StarCoder's PII pipeline does: e-mail
//! addresses, IP addresses, keys/tokens and passwords are replaced by typed placeholders
//! (`<EMAIL>`, `<IP_ADDRESS>`, `<KEY>`, `<PASSWORD>`), the surrounding code kept intact.
//!
//! Every detector is one alternative of a single regex, so a file is scanned once whatever
//! the number of detectors; the few matches are then checked against the allow-list in code
//! (documentation domains and IP ranges, version strings, placeholders, low-entropy values),
//! which a regex without look-around cannot express.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a redacted span was, and so which placeholder replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PiiKind {
    Email,
    IpAddress,
    Key,
    Password,
}

impl PiiKind {
    pub const ALL: [PiiKind; 4] = [Self::Email, Self::IpAddress, Self::Key, Self::Password];

    pub fn placeholder(self) -> &'static str {
        match self {
            Self::Email => "<EMAIL>",
            Self::IpAddress => "<IP_ADDRESS>",
            Self::Key => "<KEY>",
            Self::Password => "<PASSWORD>",
        }
    }

    /// The kind's name in column names (`redact_email`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::IpAddress => "ip_address",
            Self::Key => "key",
            Self::Password => "password",
        }
    }
}

/// How a detector's match is checked before it is redacted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    None,
    Email,
    Ipv4,
    Ipv6,
    /// A value assigned to a key-like name; `bare` when it is not quoted.
    Assigned {
        bare: bool,
    },
}

/// One detector: an alternative of the combined regex. When the pattern has a group `v`, only
/// that group (the value) is redacted, not the name it is assigned to.
#[derive(Debug)]
struct Detector {
    kind: PiiKind,
    check: Check,
    pattern: &'static str,
}

// Key-like names: the keyword ends the name (`DB_PASSWORD`, `github_token`), so
// `token_type` or `password_field` are not names of secrets.
const NAME: &str = r"[A-Za-z0-9_.-]*(?i-u:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|auth[_-]?key|private[_-]?key|credentials?)";
const ASSIGN: &str = r#"["']?[ \t]*(?::=|=>|=|:)[ \t]*"#;

static DETECTORS: LazyLock<Vec<Detector>> = LazyLock::new(|| {
    // The value of a key-like name: quoted, or bare as in `.env` and YAML files.
    let assigned = |quote: &str| -> &'static str {
        let value = if quote.is_empty() {
            r#"(?P<v>[^\s"'`<>,;()\[\]{}]{6,200})"#.to_string()
        } else {
            format!("{quote}(?P<v>[^\\s{quote}<>`]{{6,200}}){quote}")
        };
        // Built once per process (a LazyLock): leaking the few patterns is by design.
        Box::leak(format!("(?-u:\\b){NAME}{ASSIGN}{value}").into_boxed_str())
    };
    let d = |kind, check, pattern| Detector {
        kind,
        check,
        pattern,
    };
    use Check as C;
    use PiiKind as K;
    vec![
        // Private-key blocks, whole, also inside JSON strings (a GCP service-account file).
        d(
            K::Key,
            C::None,
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
        ),
        d(
            K::Key,
            C::None,
            r"(?-u:\b)(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|AIPA)[A-Z0-9]{16}(?-u:\b)",
        ),
        d(K::Key, C::None, r"(?-u:\b)AIza[0-9A-Za-z_-]{35}"),
        d(
            K::Key,
            C::None,
            r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
        ),
        d(K::Key, C::None, r"(?-u:\b)glpat-[A-Za-z0-9_-]{20,}"),
        d(K::Key, C::None, r"(?-u:\b)xox[baprs]-[A-Za-z0-9-]{10,}"),
        d(
            K::Key,
            C::None,
            r"https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+",
        ),
        d(K::Key, C::None, r"(?-u:\b)[rsp]k_live_[0-9A-Za-z]{10,99}"),
        d(
            K::Key,
            C::None,
            r"(?-u:\b)eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        ),
        d(
            K::Key,
            C::None,
            r"(?i-u:AccountKey|SharedAccessKey)=(?P<v>[A-Za-z0-9+/]{20,}={0,2})",
        ),
        d(K::Key, C::Assigned { bare: false }, assigned("\"")),
        d(K::Key, C::Assigned { bare: false }, assigned("'")),
        d(K::Key, C::Assigned { bare: true }, assigned("")),
        d(
            K::Email,
            C::Email,
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?-u:\b)",
        ),
        d(
            K::IpAddress,
            C::Ipv4,
            r"(?-u:\b)(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?-u:\b)",
        ),
        d(
            K::IpAddress,
            C::Ipv6,
            r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}(?::[0-9A-Fa-f]{1,4}){1,6}|(?:[0-9A-Fa-f]{1,4}:){1,7}:|::(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4}",
        ),
    ]
});

/// Every detector as one regex; detector `i` is the group `d{i}`, its value `v{i}`.
static COMBINED: LazyLock<Regex> = LazyLock::new(|| {
    let alternatives: Vec<String> = DETECTORS
        .iter()
        .enumerate()
        .map(|(i, d)| {
            format!(
                "(?P<d{i}>{})",
                d.pattern.replace("(?P<v>", &format!("(?P<v{i}>"))
            )
        })
        .collect();
    Regex::new(&alternatives.join("|"))
        .unwrap_or_else(|e| panic!("invalid built-in redaction pattern: {e}"))
});

/// Base names of lock files, whose hashes are not secrets (see [`is_lock_file`]).
const LOCK_FILES: [&str; 8] = [
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "go.sum",
    "composer.lock",
    "Cargo.lock",
    "flake.lock",
    "yarn.lock",
];

/// A lock file: its values assigned to key-like names are hashes, not secrets.
pub fn is_lock_file(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.ends_with(".lock") || LOCK_FILES.contains(&base)
}

/// What is allowed beyond the built-in allow-list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    /// E-mail domains (and their subdomains) that are not personal data.
    pub domains: Vec<String>,
    /// Whole e-mail addresses that are not personal data.
    pub emails: Vec<String>,
}

/// Documentation domains (RFC 2606) and local names: not anybody's address.
const DOC_DOMAINS: [&str; 9] = [
    "example.com",
    "example.org",
    "example.net",
    "localhost",
    "localhost.localdomain",
    // The reserved top-level names of RFC 2606 and RFC 6762.
    "test",
    "example",
    "invalid",
    "local",
];

/// A redacted text and what was redacted.
#[derive(Clone, Debug, PartialEq)]
pub struct Redaction {
    pub text: String,
    /// Spans redacted, by kind, in [`PiiKind::ALL`] order (`kind as usize`).
    pub counts: [u32; 4],
    /// Bytes of the input inside redacted spans.
    pub redacted_bytes: usize,
}

impl Redaction {
    /// The share of the input's bytes that were redacted (0 for an empty input).
    pub fn share(&self, input_len: usize) -> f64 {
        if input_len == 0 {
            0.0
        } else {
            self.redacted_bytes as f64 / input_len as f64
        }
    }
}

/// One redacted span of a text: its byte range and what it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: PiiKind,
}

/// The spans of `text` to redact, in order and disjoint; `path` (the file's) tells lock
/// files apart.
pub fn pii_spans(text: &str, path: &str, allow: &AllowList) -> Vec<Span> {
    let lock = is_lock_file(path);
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(caps) = COMBINED.captures_at(text, at) {
        let Some((i, whole)) = detected(&caps) else {
            break;
        };
        let detector = &DETECTORS[i];
        let target = caps.name(&format!("v{i}")).unwrap_or(whole);
        match accepted(detector, whole, target, text, lock, allow) {
            Some(kind) => spans.push(Span {
                start: target.start(),
                end: target.end(),
                kind,
            }),
            // A value that is no secret as a whole may hold one (`TOKEN=AKIA...` is no
            // random string but an AWS key id): search it again.
            None if matches!(detector.check, Check::Assigned { .. }) => {
                at = target.start();
                continue;
            }
            None => {}
        }
        at = whole.end();
    }
    spans
}

/// `text` with every detected secret or personal datum replaced by its placeholder. Some
/// checks read a match's neighbours (an address glued to a word is none), which a redaction
/// next to it changes, so redaction repeats until nothing more is found: redacting twice is
/// redacting once. Each repeat shortens the text outside placeholders, so it ends.
pub fn redact(text: &str, path: &str, allow: &AllowList) -> Redaction {
    let mut done = Redaction {
        text: text.to_string(),
        counts: [0; 4],
        redacted_bytes: 0,
    };
    loop {
        let spans = pii_spans(&done.text, path, allow);
        if spans.is_empty() {
            return done;
        }
        let mut out = String::with_capacity(done.text.len());
        let mut last = 0;
        for span in &spans {
            out.push_str(&done.text[last..span.start]);
            out.push_str(span.kind.placeholder());
            last = span.end;
            done.counts[span.kind as usize] += 1;
            done.redacted_bytes += span.end - span.start;
        }
        out.push_str(&done.text[last..]);
        done.text = out;
    }
}

/// Which detector matched (its index) and its whole match.
fn detected<'t>(caps: &Captures<'t>) -> Option<(usize, regex::Match<'t>)> {
    (0..DETECTORS.len()).find_map(|i| caps.name(&format!("d{i}")).map(|m| (i, m)))
}

/// The kind to redact a match as, or None when the allow-list keeps it.
fn accepted(
    detector: &Detector,
    span: regex::Match<'_>,
    target: regex::Match<'_>,
    text: &str,
    lock: bool,
    allow: &AllowList,
) -> Option<PiiKind> {
    let keep = |ok: bool| ok.then_some(detector.kind);
    match detector.check {
        Check::None => Some(detector.kind),
        Check::Email => keep(!allowed_email(span.as_str(), allow)),
        Check::Ipv4 => keep(!allowed_ipv4(span.as_str()) && !version_like(text, span)),
        Check::Ipv6 => keep(ipv6_like(text, span) && !allowed_ipv6(span.as_str())),
        Check::Assigned { bare } => {
            if lock || (bare && followed_by_code(text, target.end())) {
                return None;
            }
            let name = &text[span.start()..target.start()];
            assigned_kind(name, target.as_str(), bare)
        }
    }
}

fn allowed_email(email: &str, allow: &AllowList) -> bool {
    let lower = email.to_ascii_lowercase();
    let (local, domain) = lower.rsplit_once('@').unwrap_or(("", &lower));
    let in_domain = |d: &str| domain == d || domain.ends_with(&format!(".{d}"));
    DOC_DOMAINS.iter().any(|d| in_domain(d))
        || allow
            .domains
            .iter()
            .any(|d| in_domain(&d.to_ascii_lowercase()))
        || allow.emails.iter().any(|e| e.eq_ignore_ascii_case(email))
        || matches!(local, "noreply" | "no-reply" | "git")
        || local.ends_with(".noreply")
        || domain.ends_with("users.noreply.github.com")
}

fn octets(ip: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = ip.split('.');
    for slot in &mut out {
        *slot = parts.next()?.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// Loopback, private (RFC 1918), link-local, documentation (RFC 5737), unspecified,
/// multicast (224.0.0.0/4), reserved (240.0.0.0/4) and netmask addresses are nobody's.
fn allowed_ipv4(ip: &str) -> bool {
    let Some([a, b, c, _]) = octets(ip) else {
        return true;
    };
    a == 0
        || a == 127
        || a == 10
        || a >= 224
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 169 && b == 254)
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
}

/// Four dotted numbers that are a version (`version 1.2.3.4`, `==1.2.3.4`, `v1.2.3.4`), an
/// OID or a longer dotted number, not an address.
fn version_like(text: &str, span: regex::Match<'_>) -> bool {
    let before = &text.as_bytes()[..span.start()];
    let after = &text.as_bytes()[span.end()..];
    let next_is_digit = |b: &[u8], sep: u8| b.len() >= 2 && b[0] == sep && b[1].is_ascii_digit();
    // A longer dotted number, the IPv4 tail of an IPv6 address, a network (CIDR).
    let glued_before = before
        .last()
        .is_some_and(|c| matches!(c, b'.' | b':') || c.is_ascii_digit());
    if next_is_digit(after, b'.') || next_is_digit(after, b'/') || glued_before {
        return true;
    }
    let start = before.len().saturating_sub(24);
    let raw = String::from_utf8_lossy(&before[start..]).to_ascii_lowercase();
    if raw.ends_with('v') && !raw[..raw.len() - 1].ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return true; // v1.2.3.4
    }
    let operator = ["==", ">=", "<=", "~=", "!=", "@"]
        .iter()
        .any(|op| raw.trim_end_matches([' ', '"', '\'']).ends_with(op));
    let before_number = raw.trim_end_matches([' ', '"', '\'', ':', '=', '-', '#', '[', '(']);
    let word = before_number
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("")
        .trim_matches('_');
    // Versions, and the numbers of sections (`section 8.2.4.45`, `rfc7692#section-7.2.3.1`,
    // `§ 4.2.3.1`) and OIDs, which documents number the same way.
    let numbering = [
        "version", "ver", "vers", "release", "rev", "section", "sections", "sec", "chapter",
        "clause", "oid",
    ];
    operator
        || before_number.ends_with('§')
        || numbering
            .iter()
            .any(|v| word == *v || word.ends_with(&format!("_{v}")))
        || word.ends_with("version")
}

/// An IPv6 match that is an address, not a C++ scope (`std::`), a time, a Python slice
/// (`a[1::2]`) or a hex dump (`cb:2d:80:99:5a:69:52:61`): not glued to word characters or
/// colons, with a digit and a group of three or more hex digits, eight groups or `::`.
fn ipv6_like(text: &str, span: regex::Match<'_>) -> bool {
    let bytes = text.as_bytes();
    let glued = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b':' || c == b'.';
    let before = span.start().checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(span.end()).copied();
    if before.is_some_and(glued) || after.is_some_and(glued) {
        return false;
    }
    let s = span.as_str();
    let groups = s.split(':').filter(|g| !g.is_empty()).count();
    let has_digit = s.bytes().any(|c| c.is_ascii_digit());
    let wide_group = s.split(':').any(|g| g.len() >= 3);
    has_digit && wide_group && (groups == 8 || (s.contains("::") && groups >= 2))
}

/// Loopback, unspecified, link-local, unique-local, multicast (ff00::/8) and documentation
/// (2001:db8::/32).
fn allowed_ipv6(ip: &str) -> bool {
    let lower = ip.to_ascii_lowercase();
    let first = lower.split(':').next().unwrap_or("");
    lower == "::1"
        || lower == "::"
        || lower.starts_with("fe80:")
        || (first.len() == 4 && first.starts_with("ff"))
        || lower.starts_with("2001:db8:")
        || (first.len() == 4 && (first.starts_with("fc") || first.starts_with("fd")))
}

/// A bare value followed by a call, an index or an attribute is code, not a secret.
fn followed_by_code(text: &str, end: usize) -> bool {
    matches!(text.as_bytes().get(end), Some(b'(' | b'[' | b'{' | b'.'))
}

/// Values that stand for a secret in documentation and templates (compared in lower case,
/// but for the format specifiers).
const PLACEHOLDERS: [&str; 10] = [
    "${",
    "{{",
    "xxxx",
    "****",
    "...",
    "your",
    "example",
    "changeme",
    "placeholder",
    "redacted",
];
const FORMAT_SPECIFIERS: [&str; 2] = ["%s", "%("];

/// A bare value that is code: a path, a variable (`$HOME`, `%APPDATA%`), or a name, dotted
/// attribute or scoped name (`self.password`, `defaultToConfig2`, `ns::arrive`) with fewer
/// digits than a random key has.
fn bare_code(value: &str) -> bool {
    let first = value.as_bytes().first().copied().unwrap_or(b' ');
    let name_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    let name_like = value.replace("::", ".").split('.').all(|part| {
        part.bytes().next().is_some_and(|c| !c.is_ascii_digit()) && part.bytes().all(name_char)
    });
    let digits = value.bytes().filter(u8::is_ascii_digit).count();
    matches!(first, b'/' | b'$' | b'~' | b'%' | b'@') || (name_like && digits < 3)
}

/// The kind of a value assigned to a key-like `name`, or None when it is no secret: a
/// placeholder, a plain word, a name of code, or (for keys) too short or too regular.
fn assigned_kind(name: &str, value: &str, bare: bool) -> Option<PiiKind> {
    let lower = value.to_ascii_lowercase();
    let placeholder = PLACEHOLDERS.iter().any(|p| lower.contains(p))
        || FORMAT_SPECIFIERS.iter().any(|p| value.contains(p));
    if placeholder || (bare && bare_code(value)) {
        return None;
    }
    let has_digit = value.bytes().any(|c| c.is_ascii_digit());
    let has_symbol = value.bytes().any(|c| !c.is_ascii_alphanumeric());
    let mixed = value.bytes().any(|c| c.is_ascii_uppercase())
        && value.bytes().any(|c| c.is_ascii_lowercase());
    let is_password = {
        let n = name.to_ascii_lowercase();
        n.contains("passw") || n.contains("pwd")
    };
    if is_password {
        let varied = has_digit || has_symbol || mixed;
        return varied.then_some(PiiKind::Password);
    }
    // Names of settings and headers (`s3.secret-access-key`, `X-Xet-Access-Token`) are
    // words between separators; a key has a long run of random characters.
    let longest_run = value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::len)
        .max()
        .unwrap_or(0);
    let random =
        value.len() >= 16 && longest_run >= 10 && entropy(value) >= 3.0 && (has_digit || mixed);
    random.then_some(PiiKind::Key)
}

/// Shannon entropy of the bytes, in bits per byte.
fn entropy(value: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in value.bytes() {
        counts[b as usize] += 1;
    }
    let n = value.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn red(text: &str) -> String {
        redact(text, "src/app.py", &AllowList::default()).text
    }

    #[test]
    fn each_kind_gets_its_placeholder() {
        let cases = [
            ("contact = 'jane.doe@acme-corp.io'", "contact = '<EMAIL>'"),
            ("HOST = \"52.14.201.7\"", "HOST = \"<IP_ADDRESS>\""),
            ("addr = '2a03:2880:f10c:83:face:b00c:0:25de'", "addr = '<IP_ADDRESS>'"),
            ("key = AKIA4QWERTYZ7UIOPASD", "key = <KEY>"),
            ("TOKEN=AKIABGIBLZ5LCEOENLAH", "TOKEN=<KEY>"),
            ("gh = 'ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5'", "gh = '<KEY>'"),
            ("DB_PASSWORD=hunter2!x", "DB_PASSWORD=<PASSWORD>"),
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq9w8e7d6c",
                "aws_secret_access_key = <KEY>",
            ),
            ("\"password\": \"S3cure-Pass!\"", "\"password\": \"<PASSWORD>\""),
            ("smtp_password = \"letmein5897%Skl\"", "smtp_password = \"<PASSWORD>\""),
            (
                "conn = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8=;'",
                "conn = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=<KEY>;'",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(red(input), expected, "{input}");
        }
    }

    #[test]
    fn a_private_key_block_goes_whole() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAKC\n-----END RSA PRIVATE KEY-----";
        assert_eq!(
            red(&format!("k = '''{pem}'''\nx = 1")),
            "k = '''<KEY>'''\nx = 1"
        );
        let json =
            r#"{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\n"}"#;
        assert_eq!(red(json), r#"{"private_key": "<KEY>\n"}"#);
    }

    #[test]
    fn the_allow_list_keeps_what_is_nobodys() {
        for text in [
            "mail = 'someone@example.com'",
            "From: noreply@github.com",
            "user@localhost",
            "bind('127.0.0.1'), ('10.0.0.8'), ('192.168.1.20'), ('172.20.3.4')",
            "doc = '192.0.2.15 198.51.100.7 203.0.113.9 0.0.0.0 255.255.255.0'",
            "version 1.2.3.4, requests==2.31.0.1, v10.20.30.40, oid 1.3.6.1.4.1",
            "std::vector<int> a; b::c::d; t = 12:30:45; mac 00:1a:2b:3c:4d:5e",
            "addr = '::1' or 'fe80::1ff:fe23:4567:890a' or '2001:db8::8a2e:370:7334'",
            "password = 'password'  token = os.environ.get('TOKEN')  password = ${DB_PASS}",
            "secret_key = self.settings.secret  api_key: str = field()  token: Optional[str]",
            "password = request.form['password']  token = 'your-token-here'",
            "__version__ = \"2.31.0.1\"  net = '52.94.0.0/22'  mapped = '::ffff:52.1.2.3'",
            "withCredentials: defaultToConfig2,  docker run -v \"$PWD:/work\" debian",
            "echo(\"Your hidden password: $password\")",
            "a[1::2], b[0::2, 3::4], dump = 'cb:2d:80:99:5a:69:52:61'",
            "group = '224.0.0.251' or 'ff02::1:ff00:1', see section 8.2.4.45, rfc7692#section-7.2.3.1",
            "HTML5 specs sections \"8.2.4.44 Bogus comment state\", to: a@b.invalid, c@host.local",
            "OID 1.3.6.1, \u{a7} 4.2.3.1, const uint64_t token = ns::barrier_arrive_drop<false>(x);",
            "HEADER_TOKEN = \"X-Xet-Access-Token\", \"client.secret-access-key\": \"s3.secret-access-key\"",
        ] {
            assert_eq!(red(text), text);
        }
        let lock = "checksum = \"4f1e3b5c9a7d2e8f6b0c1a3d5e7f9b2c4d6e8f0a\"";
        let unlocked = redact(lock, "pkg/config.toml", &AllowList::default());
        assert_eq!(
            unlocked.counts,
            [0, 0, 0, 0],
            "checksum is no key-like name"
        );
        let secret = "secret = \"4f1e3b5c9a7d2e8f6b0c1a3d5e7f9b2c4d6e8f0a\"";
        assert_eq!(
            redact(secret, "Cargo.lock", &AllowList::default()).text,
            secret
        );
        assert_ne!(
            redact(secret, "src/conf.py", &AllowList::default()).text,
            secret
        );
    }

    #[test]
    fn the_allow_list_extends() {
        let allow = AllowList {
            domains: vec!["corp.internal".into()],
            emails: vec!["ops@acme.io".into()],
        };
        let text = "a@dev.corp.internal ops@acme.io";
        assert_eq!(redact(text, "x.py", &allow).text, text);
        assert_eq!(red(text), "<EMAIL> <EMAIL>");
    }

    #[test]
    fn counts_and_share_describe_the_redaction() {
        let text = "a = 'bob@acme.io'\nb = 'ann@acme.io'\nip = '8.8.4.4'";
        let r = redact(text, "x.py", &AllowList::default());
        assert_eq!(r.counts, [2, 1, 0, 0]);
        assert_eq!(r.redacted_bytes, 11 + 11 + 7);
        assert!((r.share(text.len()) - 29.0 / text.len() as f64).abs() < 1e-12);
    }

    const SECRETS: [&str; 8] = [
        "jane.doe@acme-corp.io",
        "52.14.201.7",
        "AKIA4QWERTYZ7UIOPASD",
        "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5",
        "password = \"S3cure-Pass!\"",
        "xoxb-123456789012-abcdefghijkl",
        "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
        "2a03:2880:f10c:83:face:b00c:0:25de",
    ];

    fn code() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[ -~\n]{0,12}",
            "[a-zé中 =:'\"._@-]{0,8}",
            prop::sample::select(SECRETS.to_vec()).prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn redacting_twice_is_redacting_once(text in code()) {
            let once = red(&text);
            prop_assert_eq!(red(&once), once.clone());
        }

        #[test]
        fn text_outside_the_spans_is_unchanged(text in code()) {
            let spans = pii_spans(&text, "x.py", &AllowList::default());
            let mut rebuilt = String::new();
            let mut last = 0;
            for span in &spans {
                prop_assert!(last <= span.start && span.start < span.end && span.end <= text.len());
                rebuilt.push_str(&text[last..span.start]);
                rebuilt.push_str(span.kind.placeholder());
                last = span.end;
            }
            rebuilt.push_str(&text[last..]);
            // Whatever the passes, the text between placeholders is the input's, in order.
            let r = redact(&text, "x.py", &AllowList::default());
            let between = Regex::new("<(?:EMAIL|IP_ADDRESS|KEY|PASSWORD)>").map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut at = 0;
            for piece in between.split(&r.text) {
                let found = text[at..].find(piece);
                prop_assert!(found.is_some(), "{:?} is not in the input after byte {}", piece, at);
                at += found.unwrap_or(0) + piece.len();
            }
            if spans.is_empty() {
                prop_assert_eq!(&r.text, &text);
            }
            let placeholders: usize = spans.iter().map(|s| s.kind.placeholder().len()).sum();
            prop_assert_eq!(rebuilt.len() + spans.iter().map(|s| s.end - s.start).sum::<usize>(), text.len() + placeholders);
        }

        #[test]
        fn every_planted_secret_is_redacted(prefix in "[a-z_]{1,8}[0-9] = ", i in 0..SECRETS.len()) {
            let text = format!("{prefix} {} \n", SECRETS[i]);
            let r = redact(&text, "x.py", &AllowList::default());
            prop_assert_eq!(r.counts.iter().sum::<u32>(), 1, "{:?}", r.text);
        }
    }
}
