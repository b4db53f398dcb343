//! Polars expressions for quality screening (DeepSeek-Coder §2.4): the tree-sitter syntax check
//! of `dsc-syntax` and the heuristic signals and rules of `dsc_core::quality`.

use dsc_core::quality::{quality_signals, QualityRules, QualitySignals};
use dsc_syntax::{check_all, Budget, FileRef, SyntaxCheck};
use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use rayon::prelude::*;
use serde::Deserialize;

use crate::input::{bytes_rows, strings};

/// The (content, lang) rows collected into a vector, so rayon can split them.
fn rows(inputs: &[Series]) -> PolarsResult<Vec<FileRef<'_>>> {
    let langs = strings(&inputs[1], "lang")?;
    Ok(bytes_rows(&inputs[0])?.zip(langs.iter()).collect())
}

fn struct_output(input_fields: &[Field], fields: Vec<Field>) -> PolarsResult<Field> {
    Ok(Field::new(
        input_fields[0].name().clone(),
        DataType::Struct(fields),
    ))
}

fn syntax_type(input_fields: &[Field]) -> PolarsResult<Field> {
    let fields = vec![
        Field::new("syntax_status".into(), DataType::String),
        Field::new("syntax_error_share".into(), DataType::Float64),
        Field::new("syntax_clean".into(), DataType::Boolean),
    ];
    struct_output(input_fields, fields)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SyntaxKwargs {
    max_bytes: usize,
    max_steps: u64,
    guard_millis: u64,
}

/// The tree-sitter check of each file: status, error share and clean flag (null when the
/// file was not parsed). Files are parsed in parallel.
#[polars_expr(output_type_func=syntax_type)]
fn syntax_check_expr(inputs: &[Series], kwargs: SyntaxKwargs) -> PolarsResult<Series> {
    let budget = Budget {
        max_bytes: kwargs.max_bytes,
        max_steps: kwargs.max_steps,
        guard_millis: kwargs.guard_millis,
    };
    let checks = check_all(&rows(inputs)?, budget).map_err(|e| polars_err!(ComputeError: "{e}"))?;
    let parsed = |c: &SyntaxCheck| match *c {
        SyntaxCheck::Parsed { error_share, clean } => Some((error_share, clean)),
        _ => None,
    };
    let status: StringChunked = checks.iter().map(|c| Some(c.status())).collect();
    let share: Float64Chunked = checks.iter().map(|c| parsed(c).map(|p| p.0)).collect();
    let clean: BooleanChunked = checks.iter().map(|c| parsed(c).map(|p| p.1)).collect();
    let columns = [
        status.with_name("syntax_status".into()).into_series(),
        share.with_name("syntax_error_share".into()).into_series(),
        clean.with_name("syntax_clean".into()).into_series(),
    ];
    let name = inputs[0].name().clone();
    Ok(StructChunked::from_series(name, checks.len(), columns.iter())?.into_series())
}

fn quality_type(input_fields: &[Field]) -> PolarsResult<Field> {
    let fields = vec![
        Field::new("comment_ratio".into(), DataType::Float64),
        Field::new("data_line_share".into(), DataType::Float64),
        Field::new("longest_function".into(), DataType::UInt64),
        Field::new("mean_identifier_len".into(), DataType::Float64),
        Field::new("max_nesting_depth".into(), DataType::UInt64),
        Field::new("quality_reason".into(), DataType::String),
    ];
    struct_output(input_fields, fields)
}

/// The heuristic signals of each file and the first quality rule it fails (null: kept).
#[polars_expr(output_type_func=quality_type)]
fn quality_expr(inputs: &[Series], kwargs: QualityRules) -> PolarsResult<Series> {
    let signals: Vec<Option<QualitySignals>> = rows(inputs)?
        .par_iter()
        .map(|(text, lang)| text.map(|t| quality_signals(t, *lang)))
        .collect();
    let f64_col = |name: &str, get: fn(&QualitySignals) -> f64| {
        let ca: Float64Chunked = signals.iter().map(|s| s.as_ref().map(get)).collect();
        ca.with_name(name.into()).into_series()
    };
    let u64_col = |name: &str, get: fn(&QualitySignals) -> u64| {
        let ca: UInt64Chunked = signals.iter().map(|s| s.as_ref().map(get)).collect();
        ca.with_name(name.into()).into_series()
    };
    let reason: StringChunked = signals
        .iter()
        .map(|s| s.as_ref().and_then(|s| kwargs.check(s)).map(|r| r.as_str()))
        .collect();
    let columns = [
        f64_col("comment_ratio", |s| s.comment_ratio),
        f64_col("data_line_share", |s| s.data_line_share),
        u64_col("longest_function", |s| s.longest_function),
        f64_col("mean_identifier_len", |s| s.mean_identifier_len),
        u64_col("max_nesting_depth", |s| s.max_nesting_depth),
        reason.with_name("quality_reason".into()).into_series(),
    ];
    let name = inputs[0].name().clone();
    Ok(StructChunked::from_series(name, signals.len(), columns.iter())?.into_series())
}
