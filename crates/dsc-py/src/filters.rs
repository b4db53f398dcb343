//! Polars expressions over `dsc_core`'s rule-based filters (DeepSeek-Coder §2.1).

use dsc_core::content::BinaryProbe;
use dsc_core::file_filter::{FileFilter, FilterConfig};
use dsc_core::html::visible_text_chars;
use dsc_core::langid::detect_language;
use dsc_core::stats::{text_stats, TextStats};
use polars::prelude::*;
use pyo3_polars::derive::polars_expr;

use crate::input::{bytes_rows, strings};

const STATS_U64: [&str; 4] = ["n_bytes", "n_chars", "n_lines", "max_line_len"];
const STATS_F64: [&str; 3] = ["avg_line_len", "alpha_frac", "alnum_frac"];

fn text_stats_type(input_fields: &[Field]) -> PolarsResult<Field> {
    let fields = STATS_U64
        .iter()
        .map(|n| Field::new((*n).into(), DataType::UInt64))
        .chain(
            STATS_F64
                .iter()
                .map(|n| Field::new((*n).into(), DataType::Float64)),
        )
        .collect();
    Ok(Field::new(
        input_fields[0].name().clone(),
        DataType::Struct(fields),
    ))
}

/// Per-file statistics as a struct column (one pass per file; a null row has null fields).
#[polars_expr(output_type_func=text_stats_type)]
fn text_stats_expr(inputs: &[Series]) -> PolarsResult<Series> {
    let ca = strings(&inputs[0], "content")?;
    let stats: Vec<Option<TextStats>> = ca.iter().map(|t| t.map(text_stats)).collect();
    let u64_field = |name: &str, get: fn(&TextStats) -> u64| {
        let ca: UInt64Chunked = stats.iter().map(|s| s.as_ref().map(get)).collect();
        ca.with_name(name.into()).into_series()
    };
    let f64_field = |name: &str, get: fn(&TextStats) -> f64| {
        let ca: Float64Chunked = stats.iter().map(|s| s.as_ref().map(get)).collect();
        ca.with_name(name.into()).into_series()
    };
    let columns = [
        u64_field(STATS_U64[0], |s| s.n_bytes),
        u64_field(STATS_U64[1], |s| s.n_chars),
        u64_field(STATS_U64[2], |s| s.n_lines),
        u64_field(STATS_U64[3], |s| s.max_line_len),
        f64_field(STATS_F64[0], |s| s.avg_line_len),
        f64_field(STATS_F64[1], |s| s.alpha_frac),
        f64_field(STATS_F64[2], |s| s.alnum_frac),
    ];
    let out = StructChunked::from_series(ca.name().clone(), ca.len(), columns.iter())?;
    Ok(out.into_series())
}

/// Visible characters of HTML text (see `dsc_core::html`).
#[polars_expr(output_type=UInt64)]
fn html_visible_chars_expr(inputs: &[Series]) -> PolarsResult<Series> {
    let ca = strings(&inputs[0], "content")?;
    let out: UInt64Chunked = ca.iter().map(|t| t.map(visible_text_chars)).collect();
    Ok(out.with_name(ca.name().clone()).into_series())
}

/// Language of each file from its path and content (null when not one of ours).
#[polars_expr(output_type=String)]
fn detect_language_expr(inputs: &[Series]) -> PolarsResult<Series> {
    let paths = strings(&inputs[0], "path")?;
    let heads = bytes_rows(&inputs[1])?;
    let out: StringChunked = paths
        .iter()
        .zip(heads)
        .map(|(path, head)| path.and_then(|p| detect_language(p, head.unwrap_or_default())))
        .collect();
    Ok(out.with_name(paths.name().clone()).into_series())
}

/// The first failed rule of each file, null when the file is kept.
#[polars_expr(output_type=String)]
fn filter_reason_expr(inputs: &[Series], kwargs: FilterConfig) -> PolarsResult<Series> {
    let filter = FileFilter::new(kwargs);
    let contents = bytes_rows(&inputs[0])?;
    let langs = strings(&inputs[1], "lang")?;
    let out: StringChunked = contents
        .zip(langs.iter())
        .map(|(raw, lang)| {
            raw.and_then(|r| filter.check_raw(r, lang))
                .map(|r| r.as_str())
        })
        .collect();
    Ok(out.with_name(inputs[0].name().clone()).into_series())
}

/// Raw bytes decoded as text; null when not valid UTF-8 or binary.
#[polars_expr(output_type=String)]
fn decode_text_expr(inputs: &[Series], kwargs: BinaryProbe) -> PolarsResult<Series> {
    let rows = bytes_rows(&inputs[0])?;
    let out: StringChunked = rows
        .map(|raw| raw.and_then(|r| dsc_core::content::decode_text(r, &kwargs).ok()))
        .collect();
    Ok(out.with_name(inputs[0].name().clone()).into_series())
}
