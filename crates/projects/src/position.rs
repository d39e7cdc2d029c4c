//! Board positions: fractional keys that order a status column by their bytes.
//!
//! A key is a string of base-62 digits (`0-9A-Za-z`, in ASCII order) read as a fraction
//! `0.d1d2d3...`, never empty and never ending in `0`, so that there is always a key
//! before any key and between any two: a move writes the moved task's key only. Putting
//! a task at the end or the top steps the first digit that can step and drops the rest
//! (keys get shorter), putting it between two neighbours takes their midpoint (one digit
//! longer every five or six drops on the same spot). A key longer than [`MAX_LEN`] is
//! not written: the column is rebalanced instead ([`spread`]).
//!
//! ```text
//! between(None, None)             = "V"
//! between(Some("V"), None)        = "W"
//! between(None, Some("V"))        = "U"
//! between(Some("V"), Some("W"))   = "VV"
//! ```

/// The digits, in byte order.
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE: u32 = 62;

/// Longest key a task gets; a longer one rebalances its column.
pub const MAX_LEN: usize = 12;

fn digit(byte: u8) -> u32 {
    DIGITS.iter().position(|d| *d == byte).map_or(0, |p| p as u32)
}

fn push(out: &mut String, d: u32) {
    out.push(char::from(DIGITS[d as usize]));
}

/// A key strictly between `lo` (`None`: the top) and `hi` (`None`: the end), or `None`
/// when `lo` is not below `hi` (the column then needs a rebalance).
pub fn between(lo: Option<&str>, hi: Option<&str>) -> Option<String> {
    match (lo, hi) {
        (None, None) => Some("V".into()),
        (Some(lo), None) => Some(after(lo)),
        (None, Some(hi)) => Some(before(hi)),
        (Some(lo), Some(hi)) => midpoint(lo, Some(hi)),
    }
}

/// The shortest step past `lo`: its first digit below `z`, plus one (or `1` appended).
fn after(lo: &str) -> String {
    for (i, byte) in lo.bytes().enumerate() {
        let d = digit(byte);
        if d + 1 < BASE {
            let mut out = lo[..i].to_string();
            push(&mut out, d + 1);
            return out;
        }
    }
    // All `z`: one digit longer, at its bottom (the next 60 steps keep this length).
    format!("{lo}1")
}

/// The shortest step below `hi`: its first digit above `1`, minus one (or, when it has
/// only `0`s and `1`s, its first `1` as `0z`).
fn before(hi: &str) -> String {
    for (i, byte) in hi.bytes().enumerate() {
        let d = digit(byte);
        if d >= 2 {
            let mut out = hi[..i].to_string();
            push(&mut out, d - 1);
            return out;
        }
    }
    let first_one = hi.find('1').unwrap_or(hi.len());
    format!("{}0z", &hi[..first_one])
}

/// The midpoint of `lo` and `hi` (`None`: 1.0) digit by digit: their common prefix, then
/// the middle digit where they part, or (when those digits are adjacent) `lo`'s digit and
/// the midpoint of the rest of `lo` and 1.0.
fn midpoint(lo: &str, hi: Option<&str>) -> Option<String> {
    let (lo, hi) = (lo.as_bytes(), hi.map(str::as_bytes));
    let mut out = String::new();
    let mut open = hi.is_none();
    for i in 0.. {
        let a = lo.get(i).map_or(0, |b| digit(*b));
        let b = match hi {
            Some(hi) if !open => {
                if i >= hi.len() && i >= lo.len() {
                    return None; // equal
                }
                hi.get(i).map_or(0, |b| digit(*b))
            }
            _ => BASE,
        };
        if a > b {
            return None;
        }
        if a == b {
            push(&mut out, a);
        } else if b - a >= 2 {
            push(&mut out, (a + b) / 2);
            return Some(out);
        } else {
            push(&mut out, a);
            open = true;
        }
    }
    None
}

/// `n` keys evenly apart, ascending, each of the same few digits (trailing zeros dropped):
/// a rebalanced column, with room for about six midpoints in every gap before a key grows.
pub fn spread(n: usize) -> Vec<String> {
    let slots = n as u128 + 1;
    let mut width = 1u32;
    while u128::from(BASE).pow(width) < slots * u128::from(BASE) {
        width += 1;
    }
    let step = u128::from(BASE).pow(width) / slots;
    (1..=n as u128)
        .map(|i| {
            let mut value = i * step;
            let mut digits = vec![0u32; width as usize];
            for d in digits.iter_mut().rev() {
                *d = (value % u128::from(BASE)) as u32;
                value /= u128::from(BASE);
            }
            while digits.last() == Some(&0) {
                digits.pop();
            }
            let mut out = String::new();
            for d in digits {
                push(&mut out, d);
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(lo: Option<&str>, hi: Option<&str>) -> String {
        let k = between(lo, hi).unwrap();
        assert!(!k.is_empty() && !k.ends_with('0'), "{lo:?} {hi:?} -> {k}");
        assert!(lo.is_none_or(|lo| lo < k.as_str()) && hi.is_none_or(|hi| k.as_str() < hi), "{lo:?} {hi:?} -> {k}");
        k
    }

    #[test]
    fn the_examples_of_the_module_doc() {
        assert_eq!(key(None, None), "V");
        assert_eq!(key(Some("V"), None), "W");
        assert_eq!(key(None, Some("V")), "U");
        assert_eq!(key(Some("V"), Some("W")), "VV");
        assert_eq!(key(Some("z"), None), "z1");
        assert_eq!(key(Some("zz"), None), "zz1");
        assert_eq!(key(None, Some("1")), "0z");
        assert_eq!(key(None, Some("01")), "00z");
        assert_eq!(key(Some(""), Some("1")), "0V");
        assert_eq!(key(Some("0001V"), Some("0002V")), "0001k");
        assert_eq!(between(Some("W"), Some("V")), None);
        assert_eq!(between(Some("V"), Some("V")), None);
    }

    #[test]
    fn keys_between_neighbours_grow_slowly_and_ends_stay_short() {
        let (mut lo, hi) = ("V".to_string(), "W".to_string());
        for _ in 0..60 {
            lo = key(Some(&lo), Some(&hi));
        }
        assert!(lo.len() <= 12, "{lo}");
        let mut top = "V".to_string();
        let mut end = "V".to_string();
        for _ in 0..300 {
            top = key(None, Some(&top));
            end = key(Some(&end), None);
        }
        assert!(top.len() <= 6 && end.len() <= 6, "{top} {end}");
    }

    #[test]
    fn spread_keys_ascend_with_room_between() {
        for n in [0, 1, 2, 61, 62, 500, 5000] {
            let keys = spread(n);
            assert_eq!(keys.len(), n);
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "{n}");
            assert!(keys.iter().all(|k| !k.is_empty() && !k.ends_with('0') && k.len() <= 4), "{n}");
            if let [a, b, ..] = keys.as_slice() {
                assert!(key(Some(a), Some(b)).len() <= 4, "{a} {b}");
            }
        }
    }
}
