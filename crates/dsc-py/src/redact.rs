//! Polars expression for the redaction stage: `dsc_core::redact` over a column of file texts.

use dsc_core::redact::{redact, AllowList, PiiKind};
use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use rayon::prelude::*;
use serde::Deserialize;

use crate::input::strings;

fn redact_type(input_fields: &[Field]) -> PolarsResult<Field> {
    let mut fields = vec![Field::new("redacted".into(), DataType::String)];
    fields.extend(
        PiiKind::ALL.map(|k| Field::new(format!("redact_{}", k.name()).into(), DataType::UInt32)),
    );
    fields.push(Field::new("redact_share".into(), DataType::Float64));
    Ok(Field::new(
        input_fields[0].name().clone(),
        DataType::Struct(fields),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedactKwargs {
    allow_domains: Vec<String>,
    allow_emails: Vec<String>,
}

/// Each (text, path) row redacted: the redacted text, the spans redacted per kind and the
/// share of the text's bytes redacted (null where the text is null). Rows run in parallel.
#[polars_expr(output_type_func=redact_type)]
fn redact_expr(inputs: &[Series], kwargs: RedactKwargs) -> PolarsResult<Series> {
    let texts = strings(&inputs[0], "text")?;
    let paths = strings(&inputs[1], "path")?;
    let allow = AllowList {
        domains: kwargs.allow_domains,
        emails: kwargs.allow_emails,
    };
    let rows: Vec<(Option<&str>, &str)> = texts
        .iter()
        .zip(paths.iter())
        .map(|(t, p)| (t, p.unwrap_or("")))
        .collect();
    let done: Vec<Option<(dsc_core::redact::Redaction, usize)>> = rows
        .par_iter()
        .map(|(text, path)| text.map(|t| (redact(t, path, &allow), t.len())))
        .collect();
    let text: StringChunked = done
        .iter()
        .map(|r| r.as_ref().map(|(r, _)| r.text.as_str()))
        .collect();
    let mut columns = vec![text.with_name("redacted".into()).into_series()];
    for (i, kind) in PiiKind::ALL.iter().enumerate() {
        let ca: UInt32Chunked = done
            .iter()
            .map(|r| r.as_ref().map(|(r, _)| r.counts[i]))
            .collect();
        columns.push(
            ca.with_name(format!("redact_{}", kind.name()).into())
                .into_series(),
        );
    }
    let share: Float64Chunked = done
        .iter()
        .map(|r| r.as_ref().map(|(r, len)| r.share(*len)))
        .collect();
    columns.push(share.with_name("redact_share".into()).into_series());
    let name = inputs[0].name().clone();
    Ok(StructChunked::from_series(name, done.len(), columns.iter())?.into_series())
}
