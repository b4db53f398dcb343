//! Reading plugin inputs: dtype checks that fail with a Polars error, never a panic.

use polars::prelude::*;

/// The rows of a String or Binary column as optional byte slices.
pub fn bytes_rows(s: &Series) -> PolarsResult<Box<dyn Iterator<Item = Option<&[u8]>> + '_>> {
    match s.dtype() {
        DataType::String => Ok(Box::new(s.str()?.iter().map(|o| o.map(str::as_bytes)))),
        DataType::Binary => Ok(Box::new(s.binary()?.iter())),
        other => polars_bail!(
            InvalidOperation: "column '{}' must be String or Binary, got {}", s.name(), other
        ),
    }
}

/// A String column, with a clear error naming the column otherwise.
pub fn strings<'a>(s: &'a Series, role: &str) -> PolarsResult<&'a StringChunked> {
    match s.dtype() {
        DataType::String => s.str(),
        other => polars_bail!(
            InvalidOperation: "{role} column '{}' must be String, got {}", s.name(), other
        ),
    }
}
