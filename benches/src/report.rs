//! The Markdown the compare binary prints: a header naming the machine and
//! the date, and tables whose cells are medians and ratios.
//!
//! Figures are printed with three significant digits, which is all a median
//! over a handful of runs on a shared machine can claim. A ratio is
//! `weft / tokio` of the same figure: below 1 means weft needed less (time,
//! CPU, memory, syscalls); for a rate (requests per second, MB/s) the
//! table says so in the row, and there above 1 is better.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// A Markdown table built row by row.
///
/// ```
/// use weft_benches::report::Table;
///
/// let mut table = Table::new(&["workload", "weft", "tokio"]);
/// table.row(vec!["spawn_join".into(), "80".into(), "120".into()]);
/// let markdown = table.to_markdown();
/// assert!(markdown.starts_with("| workload | weft | tokio |\n|---|---:|---:|\n"));
/// assert!(markdown.ends_with("| spawn_join | 80 | 120 |\n"));
/// ```
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    text_columns: usize,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names; the first column is left-aligned
    /// text, the others right-aligned figures.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|name| (*name).to_owned()).collect(),
            text_columns: 1,
            rows: Vec::new(),
        }
    }

    /// Makes the first `n` columns left-aligned text (one by default).
    ///
    /// ```
    /// use weft_benches::report::Table;
    ///
    /// let table = Table::new(&["workload", "shape", "weft"]).text_columns(2);
    /// assert!(table.to_markdown().contains("|---|---|---:|"));
    /// ```
    pub fn text_columns(mut self, n: usize) -> Self {
        self.text_columns = n;
        self
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Appends a row (missing trailing cells print empty).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as GitHub-flavoured Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            let padded = (0..self.header.len()).map(|i| cells.get(i).map_or("", String::as_str));
            out.push_str("| ");
            out.push_str(&padded.collect::<Vec<_>>().join(" | "));
            out.push_str(" |\n");
        };
        line(&mut out, &self.header);
        for column in 0..self.header.len() {
            out.push_str(if column < self.text_columns {
                "|---"
            } else {
                "|---:"
            });
        }
        out.push_str("|\n");
        for row in &self.rows {
            line(&mut out, row);
        }
        out
    }
}

/// `value` with three significant digits (and no exponent).
///
/// ```
/// use weft_benches::report::figure;
///
/// assert_eq!(figure(123_456.0), "123456");
/// assert_eq!(figure(42.42), "42.4");
/// assert_eq!(figure(0.012345), "0.0123");
/// ```
pub fn figure(value: f64) -> String {
    if !value.is_finite() {
        return "—".to_owned();
    }
    let magnitude = if value == 0.0 {
        0
    } else {
        value.abs().log10().floor() as i32
    };
    let decimals = (2 - magnitude).max(0) as usize;
    format!("{value:.decimals$}")
}

/// `numerator / denominator` with two decimals, or a dash when either side
/// is missing.
///
/// ```
/// use weft_benches::report::ratio;
///
/// assert_eq!(ratio(Some(1.0), Some(4.0)), "0.25");
/// assert_eq!(ratio(None, Some(4.0)), "—");
/// ```
pub fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> String {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 => format!("{:.2}", n / d),
        _ => "—".to_owned(),
    }
}

/// One line naming the CPU, the number of cores and the kernel, from
/// `/proc`.
///
/// ```
/// let machine = weft_benches::report::machine();
/// assert!(machine.contains("core"));
/// ```
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split(':').nth(1))
        .map_or("unknown CPU", str::trim)
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut line = format!("{model}, {cores} cores");
    if !kernel.trim().is_empty() {
        let _ = write!(line, ", Linux {}", kernel.trim());
    }
    line
}

/// Today's date in UTC as `YYYY-MM-DD`.
///
/// ```
/// let date = weft_benches::report::today();
/// assert_eq!(date.len(), 10);
/// assert!(date.starts_with("20"));
/// ```
pub fn today() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date of a count of days since 1970-01-01.
///
/// Eras of 400 years repeat exactly; within an era the year is counted
/// from March so that the leap day falls at its end.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_the_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn figures_keep_three_significant_digits() {
        assert_eq!(figure(0.0), "0.00");
        assert_eq!(figure(1.0), "1.00");
        assert_eq!(figure(999.9), "1000");
        assert_eq!(figure(f64::NAN), "—");
    }
}
