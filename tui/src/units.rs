//! Binary units: parsing memsize arguments and formatting byte counts (MiB, GiB), errnos
//! and signals.

use thiserror::Error;

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;
pub const GIB: u64 = 1024 * MIB;

/// The forms a memsize accepts, quoted in every parse error.
pub const MEMSIZE_FORMS: &str =
    "a whole number of MiB (300), or with a unit: 300M, 300MiB, 2G, 2GiB, 1T, 4096K";

#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid memsize {input:?}: {reason}; use {forms}", forms = MEMSIZE_FORMS)]
pub struct MemsizeError {
    pub input: String,
    pub reason: &'static str,
}

/// Parse a memsize into MiB. Accepts `300`, `300M`, `300MiB`, `2G`, `2GiB`, `1T`, `4096K`
/// (binary units; case-insensitive; `B` suffix optional). Rejects 0, negatives,
/// fractions of a MiB, empty input, overflow and junk.
pub fn parse_memsize_mib(input: &str) -> Result<u64, MemsizeError> {
    let err = |reason| MemsizeError {
        input: input.to_string(),
        reason,
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err("it is empty"));
    }
    if s.starts_with('-') {
        return Err(err("it is negative"));
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    if digits.is_empty() {
        return Err(err("it does not start with a number"));
    }
    if unit.starts_with('.') || unit.starts_with(',') {
        return Err(err("fractions are not accepted"));
    }
    let n: u64 = digits.parse().map_err(|_| err("the number is too large"))?;
    let unit = unit.trim().to_ascii_lowercase();
    // Size of one unit in KiB, so that K can express whole MiB too.
    let kib_per_unit: u64 = match unit.as_str() {
        "" | "m" | "mb" | "mib" => 1024,
        "k" | "kb" | "kib" => 1,
        "g" | "gb" | "gib" => 1024 * 1024,
        "t" | "tb" | "tib" => 1024 * 1024 * 1024,
        _ => {
            return Err(err(
                "the unit is not one of K, M, G, T (KiB, MiB, GiB, TiB)",
            ))
        }
    };
    let kib = n
        .checked_mul(kib_per_unit)
        .ok_or_else(|| err("the size overflows"))?;
    if kib == 0 {
        return Err(err("it is zero"));
    }
    if kib % 1024 != 0 {
        return Err(err("it is not a whole number of MiB"));
    }
    let mib = kib / 1024;
    // The module multiplies by 2^20 in an unsigned long; refuse what cannot be a byte count.
    if mib.checked_mul(MIB).is_none() {
        return Err(err("the size overflows"));
    }
    Ok(mib)
}

/// Format a byte count with a binary unit, e.g. `64.0 MiB`, `1.50 GiB`, `12.5 PiB`.
pub fn fmt_bytes(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else if v >= 100.0 {
        format!("{v:.0} {}", UNITS[i])
    } else if v >= 10.0 {
        format!("{v:.1} {}", UNITS[i])
    } else {
        format!("{v:.2} {}", UNITS[i])
    }
}

/// What `fmt_bytes` prints for a byte count, as a key: equal keys, equal text (but counts
/// that print the same may have different keys: above 2^53 bytes, or one exactly halfway
/// between two printed values and one not). Worked out in integers without formatting, so
/// that a pane can tell whether the figures it shows changed for a few instructions each
/// (`ui::damage`); `Absent` stands for a figure not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FigKey {
    #[default]
    Absent,
    /// Printed whole: "{bytes} B", or too large for the rounding below to be exact.
    Exact(u64),
    /// `v` = bytes / 1024^unit, printed with `decimals`: `twice` is the integer part of
    /// 2 v 10^decimals and `exact` whether that product is an integer. Either way the
    /// rounding of v 10^decimals, the printed digits, follows from the two.
    Rounded {
        unit: u8,
        decimals: u8,
        twice: u64,
        exact: bool,
    },
}

/// `FigKey` of `fmt_bytes(bytes)`.
pub fn fmt_bytes_key(bytes: u64) -> FigKey {
    // The same unit and number of decimals as `fmt_bytes` picks (v is exact below 2^53: a
    // division by 1024 only moves the exponent).
    let mut v = bytes as f64;
    let mut unit = 0u8;
    while v >= 1024.0 && unit < 6 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || bytes >= 1 << 53 {
        return FigKey::Exact(bytes);
    }
    let decimals: u8 = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let n = u128::from(bytes) * 10u128.pow(u32::from(decimals)) * 2;
    let shift = 10 * u32::from(unit);
    FigKey::Rounded {
        unit,
        decimals,
        twice: (n >> shift) as u64,
        exact: n & ((1u128 << shift) - 1) == 0,
    }
}

/// Format a signed change in bytes as MiB with a sign, e.g. `+64.2 MiB`, `-205.0 MiB`.
pub fn fmt_delta_mib(delta_bytes: i64) -> String {
    let mib = delta_bytes as f64 / MIB as f64;
    format!("{mib:+.1} MiB")
}

/// Bytes as (possibly fractional) MiB, for charts.
pub fn mib_f64(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

/// Format nanoseconds for humans: `850 µs`, `12.3 ms`, `4.10 s`.
pub fn fmt_ns(ns: u64) -> String {
    if ns < 1_000_000 {
        format!("{} µs", ns / 1000)
    } else if ns < 1_000_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", ns as f64 / 1e9)
    }
}

/// Name and meaning of an errno, e.g. `ENOMEM (Out of memory)`.
pub fn errno_name(errno: i32) -> String {
    let e = nix::errno::Errno::from_raw(errno);
    if e == nix::errno::Errno::UnknownErrno {
        format!("errno {errno}")
    } else {
        format!("{e:?} ({})", e.desc())
    }
}

/// Name of a signal, e.g. `SIGKILL`, or `signal N` when unknown.
pub fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {sig}"))
}

/// The wall clock, milliseconds since the Unix epoch (0 if the clock is before it).
pub fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The UTC date and time of `unix_ms`: (year, month, day, hour, minute, second).
pub fn utc(unix_ms: u64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = (unix_ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        (rem / 60 % 60) as u32,
        (rem % 60) as u32,
    )
}

/// `2026-12-05 09:30 UTC`.
pub fn fmt_utc_minute(unix_ms: u64) -> String {
    let (y, mo, d, h, mi, _) = utc(unix_ms);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC")
}

/// `20261205-093012`, for file names.
pub fn utc_stamp(unix_ms: u64) -> String {
    let (y, mo, d, h, mi, s) = utc(unix_ms);
    format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_and_unit_forms() {
        assert_eq!(parse_memsize_mib("300"), Ok(300));
        assert_eq!(parse_memsize_mib("300M"), Ok(300));
        assert_eq!(parse_memsize_mib("300MiB"), Ok(300));
        assert_eq!(parse_memsize_mib("512mib"), Ok(512));
        assert_eq!(parse_memsize_mib("2G"), Ok(2048));
        assert_eq!(parse_memsize_mib("2GiB"), Ok(2048));
        assert_eq!(parse_memsize_mib("1T"), Ok(1024 * 1024));
        assert_eq!(parse_memsize_mib("4096K"), Ok(4));
        assert_eq!(parse_memsize_mib(" 64 "), Ok(64));
    }

    #[test]
    fn rejects_bad_forms_with_reason() {
        for (input, reason) in [
            ("0", "it is zero"),
            ("0G", "it is zero"),
            ("-5", "it is negative"),
            ("1.5", "fractions are not accepted"),
            ("1.5G", "fractions are not accepted"),
            ("", "it is empty"),
            ("   ", "it is empty"),
            ("abc", "it does not start with a number"),
            (
                "12parsecs",
                "the unit is not one of K, M, G, T (KiB, MiB, GiB, TiB)",
            ),
            ("1000K", "it is not a whole number of MiB"),
            ("99999999999999999999999", "the number is too large"),
            ("17592186044416", "the size overflows"),
            ("18446744073709551615T", "the size overflows"),
        ] {
            let e = parse_memsize_mib(input).expect_err(input);
            assert_eq!(e.reason, reason, "input {input:?}");
            assert!(e.to_string().contains("300M"), "error names accepted forms");
        }
    }

    #[test]
    fn largest_accepted_is_the_modules_limit() {
        let max = u64::MAX / MIB;
        assert_eq!(parse_memsize_mib(&max.to_string()), Ok(max));
        assert!(parse_memsize_mib(&(max + 1).to_string()).is_err());
    }

    #[test]
    fn formats_binary_units() {
        assert_eq!(fmt_bytes(512), "512 B");
        assert_eq!(fmt_bytes(64 * MIB), "64.0 MiB");
        assert_eq!(fmt_bytes(3 * GIB / 2), "1.50 GiB");
        assert_eq!(fmt_bytes(200 * GIB), "200 GiB");
        assert_eq!(fmt_delta_mib((64.2 * MIB as f64) as i64), "+64.2 MiB");
        assert_eq!(fmt_delta_mib(-205 * MIB as i64), "-205.0 MiB");
        assert_eq!(fmt_ns(4_100_000_000), "4.10 s");
        assert_eq!(fmt_ns(12_300_000), "12.3 ms");
    }

    #[test]
    fn errno_and_signal_names() {
        assert_eq!(errno_name(12), "ENOMEM (Out of memory)");
        assert_eq!(
            errno_name(nix::libc::EKEYREJECTED),
            "EKEYREJECTED (Key was rejected by service)"
        );
        assert_eq!(errno_name(99999), "errno 99999");
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(200), "signal 200");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(fmt_utc_minute(0), "1970-01-01 00:00 UTC");
        // 2026-12-05 09:30:12 UTC.
        assert_eq!(utc_stamp(1_796_463_012_000), "20261205-093012");
        assert_eq!(fmt_utc_minute(951_782_400_000), "2000-02-29 00:00 UTC");
    }

    /// Two counts with one key print the same: every count around the places where the
    /// printed text changes (unit, decimals, each rounding step of a few MiB and GiB), and a
    /// spread of others.
    #[test]
    fn equal_fig_keys_print_equal() {
        let mut counts: Vec<u64> = Vec::new();
        for unit in 1..6u32 {
            let base = 1u64 << (10 * unit);
            for m in [1u64, 9, 10, 99, 100, 1023] {
                let c = m * base;
                counts.extend(c.saturating_sub(3000)..c + 3000);
            }
            // Halfway points: 1.005, 10.05, 100.5 units.
            for (num, den) in [(1005u64, 1000u64), (1005, 100), (1005, 10)] {
                let c = base / den * num;
                counts.extend(c.saturating_sub(3000)..c + 3000);
            }
        }
        counts.extend(0..5000);
        counts.extend((0..200_000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20));
        counts.extend([u64::MAX, 1 << 53, (1 << 53) - 1, 32 << 40]);
        let mut seen: std::collections::HashMap<FigKey, (u64, String)> =
            std::collections::HashMap::new();
        let mut keys = std::collections::HashSet::new();
        for c in counts {
            let (key, text) = (fmt_bytes_key(c), fmt_bytes(c));
            keys.insert(key);
            let (first, first_text) = seen.entry(key).or_insert((c, text.clone()));
            assert_eq!(*first_text, text, "{first} and {c} share {key:?}");
        }
        // Not one key for everything: keys tell texts apart.
        assert!(keys.len() > 10_000, "{}", keys.len());
        assert_ne!(fmt_bytes_key(1000 * MIB), fmt_bytes_key(1001 * MIB));
        assert_eq!(
            fmt_bytes_key(1000 * MIB + 4096),
            fmt_bytes_key(1000 * MIB + 8192)
        );
    }
}
