//! Decontamination (DeepSeek-Coder §2.4): a benchmark index built from Python once per process,
//! and a Polars expression that scans each file against it.
//!
//! The index can hold megabytes of benchmark text, too much to pass to every plugin call as
//! keyword arguments. Python builds it once as a `DecontIndex`; the index registers itself
//! under its content key, and the expression receives only that key.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use dsc_core::decont::{
    fingerprint, BenchmarkField, BenchmarkRecord, Contamination, DecontConfig, DecontIndex,
};
use polars::prelude::*;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3_polars::derive::polars_expr;
use rayon::prelude::*;
use serde::Deserialize;

use crate::input::bytes_rows;

/// Every index built in this process, by content key. Equal records give the same key, so
/// building the same index again reuses it instead of growing the registry.
static INDEXES: LazyLock<Mutex<HashMap<String, Arc<DecontIndex>>>> =
    LazyLock::new(Default::default);

fn registry() -> Result<std::sync::MutexGuard<'static, HashMap<String, Arc<DecontIndex>>>, String> {
    INDEXES
        .lock()
        .map_err(|_| "the decontamination index registry is poisoned".to_owned())
}

/// A record as Python passes it: `(benchmark, id, [(field, lang, text), ...])`.
type RecordRow = (String, String, Vec<(String, Option<String>, String)>);

/// A hashed n-gram index over benchmark records.
#[pyclass(name = "DecontIndex", module = "dsc._dsc", frozen)]
#[derive(Debug)]
pub struct PyDecontIndex {
    key: String,
    index: Arc<DecontIndex>,
}

#[pymethods]
impl PyDecontIndex {
    #[new]
    #[pyo3(signature = (records, *, ngram, min_distinct_words, generic_share))]
    fn new(
        py: Python<'_>,
        records: Vec<RecordRow>,
        ngram: usize,
        min_distinct_words: usize,
        generic_share: f64,
    ) -> PyResult<Self> {
        let config = DecontConfig {
            ngram,
            min_distinct_words,
            generic_share,
        };
        config
            .validate()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let records: Vec<BenchmarkRecord> = records
            .into_iter()
            .map(|(benchmark, id, fields)| BenchmarkRecord {
                benchmark,
                id,
                fields: fields
                    .into_iter()
                    .map(|(name, lang, text)| BenchmarkField { name, lang, text })
                    .collect(),
            })
            .collect();
        let key = format!("{:016x}", fingerprint(&records, config));
        let index = py.detach(|| lookup_or_build(&key, records, config))?;
        Ok(Self { key, index })
    }

    /// The content key the `decontaminate` expression uses to find this index.
    #[getter]
    fn key(&self) -> &str {
        &self.key
    }

    /// Counts of records and fields, of distinct grams indexed, of grams left out as
    /// generic, and of records no file can match.
    #[getter]
    fn stats(&self) -> HashMap<&'static str, usize> {
        let s = self.index.stats();
        HashMap::from([
            ("records", s.records),
            ("fields", s.fields),
            ("windows", s.windows),
            ("generic_windows", s.generic_windows),
            ("unmatchable_records", s.unmatchable_records),
        ])
    }

    /// `(benchmark, id)` of every record with no identifying gram, in order.
    #[getter]
    fn unmatchable(&self) -> Vec<(String, String)> {
        let records = self.index.records();
        self.index
            .unmatchable()
            .iter()
            .map(|&r| (records[r].benchmark.clone(), records[r].id.clone()))
            .collect()
    }

    fn __len__(&self) -> usize {
        self.index.records().len()
    }

    /// The first match in `text` (in language `lang`, None for prose): `(benchmark,
    /// item_id, start, end)` byte span, or None.
    #[pyo3(signature = (text, lang=None))]
    fn scan(
        &self,
        py: Python<'_>,
        text: &[u8],
        lang: Option<&str>,
    ) -> Option<(String, String, usize, usize)> {
        let hit = py.detach(|| self.index.scan(text, lang))?;
        let (benchmark, item_id) = describe(&self.index, &hit);
        Some((benchmark.to_owned(), item_id, hit.start, hit.end))
    }
}

/// The benchmark of a match and its item id, `record:field` (`HumanEval/0:prompt`).
fn describe<'a>(index: &'a DecontIndex, hit: &Contamination) -> (&'a str, String) {
    let record = &index.records()[hit.record];
    let field = &record.fields[hit.field].name;
    (&record.benchmark, format!("{}:{field}", record.id))
}

fn lookup_or_build(
    key: &str,
    records: Vec<BenchmarkRecord>,
    config: DecontConfig,
) -> PyResult<Arc<DecontIndex>> {
    if let Some(index) = registry().map_err(PyRuntimeError::new_err)?.get(key) {
        return Ok(Arc::clone(index));
    }
    let index = Arc::new(
        DecontIndex::build(records, config).map_err(|e| PyValueError::new_err(e.to_string()))?,
    );
    let mut indexes = registry().map_err(PyRuntimeError::new_err)?;
    Ok(Arc::clone(indexes.entry(key.to_owned()).or_insert(index)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecontKwargs {
    index_key: String,
}

fn decont_type(input_fields: &[Field]) -> PolarsResult<Field> {
    let fields = vec![
        Field::new("contaminated".into(), DataType::Boolean),
        Field::new("benchmark".into(), DataType::String),
        Field::new("item_id".into(), DataType::String),
        Field::new("span_start".into(), DataType::UInt64),
        Field::new("span_end".into(), DataType::UInt64),
        Field::new("span_text".into(), DataType::String),
    ];
    Ok(Field::new(
        input_fields[0].name().clone(),
        DataType::Struct(fields),
    ))
}

/// Scan each file (String or Binary; a second input, when given, is its language) against
/// the registered index: the contaminated flag, the first matching item and the matched byte
/// span and its text (null when clean).
#[polars_expr(output_type_func=decont_type)]
fn decontaminate_expr(inputs: &[Series], kwargs: DecontKwargs) -> PolarsResult<Series> {
    let index = registry()
        .map_err(|e| polars_err!(ComputeError: "{e}"))?
        .get(&kwargs.index_key)
        .cloned()
        .ok_or_else(|| {
            polars_err!(ComputeError: "no decontamination index with key {} in this process: build a DecontIndex first", kwargs.index_key)
        })?;
    let texts: Vec<Option<&[u8]>> = bytes_rows(&inputs[0])?.collect();
    let langs: Vec<Option<&str>> = match inputs.get(1) {
        Some(lang) => lang.str()?.iter().collect(),
        None => vec![None; texts.len()],
    };
    polars_ensure!(langs.len() == texts.len(), ShapeMismatch: "the language column must be as long as the text column");
    let hits: Vec<Option<Option<Contamination>>> = texts
        .par_iter()
        .zip(&langs)
        .map(|(text, lang)| text.map(|t| index.scan(t, *lang)))
        .collect();
    let described: Vec<Option<(&str, String)>> = hits
        .iter()
        .map(|h| h.flatten().map(|c| describe(&index, &c)))
        .collect();
    let contaminated: BooleanChunked = hits.iter().map(|h| h.map(|c| c.is_some())).collect();
    let benchmark: StringChunked = described.iter().map(|d| d.as_ref().map(|d| d.0)).collect();
    let item_id: StringChunked = described
        .iter()
        .map(|d| d.as_ref().map(|d| d.1.as_str()))
        .collect();
    let start: UInt64Chunked = hits
        .iter()
        .map(|h| h.flatten().map(|c| c.start as u64))
        .collect();
    let end: UInt64Chunked = hits
        .iter()
        .map(|h| h.flatten().map(|c| c.end as u64))
        .collect();
    let text: StringChunked = hits
        .iter()
        .zip(&texts)
        .map(|(h, t)| {
            let (c, t) = (h.flatten()?, (*t)?);
            Some(String::from_utf8_lossy(&t[c.start..c.end]).into_owned())
        })
        .collect();
    let columns = [
        contaminated.with_name("contaminated".into()).into_series(),
        benchmark.with_name("benchmark".into()).into_series(),
        item_id.with_name("item_id".into()).into_series(),
        start.with_name("span_start".into()).into_series(),
        end.with_name("span_end".into()).into_series(),
        text.with_name("span_text".into()).into_series(),
    ];
    let name = inputs[0].name().clone();
    Ok(StructChunked::from_series(name, hits.len(), columns.iter())?.into_series())
}
