//! Decontamination (PAPER.md stage 5): a benchmark index built from Python once per process,
//! and a Polars expression that scans each file against it.
//!
//! The index can hold megabytes of benchmark text, too much to pass to every plugin call as
//! keyword arguments. Python builds it once as a `DecontIndex`; the index registers itself
//! under its content key, and the expression receives only that key.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use dsc_core::decont::{fingerprint, BenchmarkItem, Contamination, DecontConfig, DecontIndex};
use polars::prelude::*;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3_polars::derive::polars_expr;
use rayon::prelude::*;
use serde::Deserialize;

use crate::input::bytes_rows;

/// Every index built in this process, by content key. Equal items give the same key, so
/// building the same index again reuses it instead of growing the registry.
static INDEXES: LazyLock<Mutex<HashMap<String, Arc<DecontIndex>>>> =
    LazyLock::new(Default::default);

fn registry() -> Result<std::sync::MutexGuard<'static, HashMap<String, Arc<DecontIndex>>>, String> {
    INDEXES
        .lock()
        .map_err(|_| "the decontamination index registry is poisoned".to_owned())
}

/// A hashed n-gram index over benchmark items `(benchmark, item_id, text)`.
#[pyclass(name = "DecontIndex", module = "dsc._dsc", frozen)]
#[derive(Debug)]
pub struct PyDecontIndex {
    key: String,
    index: Arc<DecontIndex>,
}

#[pymethods]
impl PyDecontIndex {
    #[new]
    #[pyo3(signature = (items, *, ngram, min_exact_tokens, skip_numeric_windows))]
    fn new(
        py: Python<'_>,
        items: Vec<(String, String, String)>,
        ngram: usize,
        min_exact_tokens: usize,
        skip_numeric_windows: bool,
    ) -> PyResult<Self> {
        let config = DecontConfig {
            ngram,
            min_exact_tokens,
            skip_numeric_windows,
        };
        config
            .validate()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let items: Vec<BenchmarkItem> = items
            .into_iter()
            .map(|(benchmark, item_id, text)| BenchmarkItem {
                benchmark,
                item_id,
                text,
            })
            .collect();
        let key = format!("{:016x}", fingerprint(&items, config));
        let index = py.detach(|| lookup_or_build(&key, items, config))?;
        Ok(Self { key, index })
    }

    /// The content key the `decontaminate` expression uses to find this index.
    #[getter]
    fn key(&self) -> &str {
        &self.key
    }

    /// Counts of items indexed by n-grams, exactly, or skipped, of windows skipped as
    /// numbers only, and of distinct windows indexed.
    #[getter]
    fn stats(&self) -> HashMap<&'static str, usize> {
        let s = self.index.stats();
        HashMap::from([
            ("items", s.items),
            ("gram_items", s.gram_items),
            ("exact_items", s.exact_items),
            ("skipped_items", s.skipped_items),
            ("numeric_windows", s.numeric_windows),
            ("windows", s.windows),
        ])
    }

    fn __len__(&self) -> usize {
        self.index.items().len()
    }

    /// The first match in `text`: `(benchmark, item_id, start, end)` byte span, or None.
    fn scan(&self, py: Python<'_>, text: &[u8]) -> Option<(String, String, usize, usize)> {
        let hit = py.detach(|| self.index.scan(text))?;
        let item = &self.index.items()[hit.item];
        Some((
            item.benchmark.clone(),
            item.item_id.clone(),
            hit.start,
            hit.end,
        ))
    }
}

fn lookup_or_build(
    key: &str,
    items: Vec<BenchmarkItem>,
    config: DecontConfig,
) -> PyResult<Arc<DecontIndex>> {
    if let Some(index) = registry().map_err(PyRuntimeError::new_err)?.get(key) {
        return Ok(Arc::clone(index));
    }
    let index = Arc::new(
        DecontIndex::build(items, config).map_err(|e| PyValueError::new_err(e.to_string()))?,
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

/// Scan each file (String or Binary) against the registered index: the contaminated flag,
/// the first matching item and the matched byte span and its text (null when clean).
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
    let hits: Vec<Option<Option<Contamination>>> = texts
        .par_iter()
        .map(|text| text.map(|t| index.scan(t)))
        .collect();
    let item = |h: &Option<Option<Contamination>>| h.flatten().map(|c| &index.items()[c.item]);
    let contaminated: BooleanChunked = hits.iter().map(|h| h.map(|c| c.is_some())).collect();
    let benchmark: StringChunked = hits
        .iter()
        .map(|h| item(h).map(|i| i.benchmark.as_str()))
        .collect();
    let item_id: StringChunked = hits
        .iter()
        .map(|h| item(h).map(|i| i.item_id.as_str()))
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
