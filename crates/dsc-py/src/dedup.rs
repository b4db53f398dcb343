//! Near-deduplication over Polars: MinHash signatures and band hashes as expressions, and the
//! pair and cluster steps of LSH as functions over Series.

use dsc_core::lsh::{self, ClusterStats, LshParams, UnionFind};
use dsc_core::minhash::{self, MinHashParams, MinHasher, Scheme};
use dsc_core::sigstore::{self, RowRef, SignatureFile};
use dsc_core::simd;
use polars::prelude::*;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_polars::derive::polars_expr;
use pyo3_polars::error::PyPolarsErr;
use pyo3_polars::PySeries;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::input::strings;

fn list_u64_output(input_fields: &[Field]) -> PolarsResult<Field> {
    Ok(Field::new(
        input_fields[0].name().clone(),
        DataType::List(Box::new(DataType::UInt64)),
    ))
}

/// Builds a `List(UInt64)` column from per-row optional vectors.
fn list_u64_series(name: PlSmallStr, rows: &[Option<Vec<u64>>], width: usize) -> Series {
    let mut builder = ListPrimitiveChunkedBuilder::<UInt64Type>::new(
        name,
        rows.len(),
        rows.len() * width,
        DataType::UInt64,
    );
    for row in rows {
        match row {
            Some(values) => builder.append_slice(values),
            None => builder.append_null(),
        }
    }
    builder.finish().into_series()
}

/// `summary` of each text (null stays null), in parallel over rows: a signature costs at least
/// one hash per shingle, far more than the hand-off.
fn per_text(
    texts: &Series,
    params: MinHashParams,
    summary: impl Fn(&MinHasher, &str) -> Vec<u64> + Sync,
) -> PolarsResult<Series> {
    let hasher = MinHasher::new(params).map_err(|e| polars_err!(InvalidOperation: "{e}"))?;
    let values: Vec<Option<&str>> = strings(texts, "text")?.iter().collect();
    let rows: Vec<Option<Vec<u64>>> = values
        .par_iter()
        .map(|text| text.map(|t| summary(&hasher, t)))
        .collect();
    Ok(list_u64_series(
        texts.name().clone(),
        &rows,
        hasher.params().num_perm,
    ))
}

/// The MinHash signature of each text (null stays null).
#[polars_expr(output_type_func=list_u64_output)]
fn minhash_signature_expr(inputs: &[Series], kwargs: MinHashParams) -> PolarsResult<Series> {
    per_text(&inputs[0], kwargs, MinHasher::signature)
}

/// The mergeable sketch of each text (see `MinHasher::sketch_of_shingles`): the element-wise
/// minimum of a group's sketches is the sketch of the union of its shingles.
#[polars_expr(output_type_func=list_u64_output)]
fn minhash_sketch_expr(inputs: &[Series], kwargs: MinHashParams) -> PolarsResult<Series> {
    per_text(&inputs[0], kwargs, MinHasher::sketch)
}

/// The signature of each sketch (densified, for one permutation hashing).
#[polars_expr(output_type_func=list_u64_output)]
fn minhash_finish_expr(inputs: &[Series], kwargs: MinHashParams) -> PolarsResult<Series> {
    let hasher = MinHasher::new(kwargs).map_err(|e| polars_err!(InvalidOperation: "{e}"))?;
    let sketches = signature_column(&inputs[0], "minhash_finish")?;
    let mut rows = Vec::with_capacity(sketches.len());
    for sketch in sketches.amortized_iter() {
        let row = match sketch {
            Some(s) => {
                let values = s.as_ref().u64()?.cont_slice()?.to_vec();
                polars_ensure!(
                    values.len() == hasher.params().num_perm,
                    InvalidOperation: "minhash_finish: a sketch of {} values, num_perm is {}",
                    values.len(), hasher.params().num_perm
                );
                Some(hasher.finish(values))
            }
            None => None,
        };
        rows.push(row);
    }
    Ok(list_u64_series(
        inputs[0].name().clone(),
        &rows,
        hasher.params().num_perm,
    ))
}

/// The kernel each scheme's signatures run on this machine (honouring `DSC_SIMD`), and under
/// `compiled` the vector features the module was compiled with: what a benchmark reports
/// beside its figures.
#[pyfunction]
pub fn minhash_kernels() -> PyResult<BTreeMap<&'static str, String>> {
    let mut kernels = BTreeMap::new();
    for (name, scheme) in [("oph", Scheme::Oph), ("classic", Scheme::Classic)] {
        let params = MinHashParams {
            scheme,
            ..MinHashParams::default()
        };
        let hasher = MinHasher::new(params).map_err(|e| PyValueError::new_err(e.to_string()))?;
        kernels.insert(name, hasher.kernel_name());
    }
    kernels.insert("compiled", simd::compiled_features().join(","));
    Ok(kernels)
}

/// The band hashes of each signature (see `dsc_core::lsh::band_hashes`).
#[polars_expr(output_type_func=list_u64_output)]
fn minhash_band_hashes_expr(inputs: &[Series], kwargs: LshParams) -> PolarsResult<Series> {
    let signatures = signature_column(&inputs[0], "minhash_band_hashes")?;
    let mut rows = Vec::with_capacity(signatures.len());
    for signature in signatures.amortized_iter() {
        let row = match signature {
            Some(s) => {
                let values = s.as_ref().u64()?.cont_slice()?.to_vec();
                let params = kwargs
                    .validate(values.len())
                    .map_err(|e| polars_err!(InvalidOperation: "minhash_band_hashes: {e}"))?;
                Some(lsh::band_hashes(&values, params))
            }
            None => None,
        };
        rows.push(row);
    }
    Ok(list_u64_series(
        inputs[0].name().clone(),
        &rows,
        kwargs.bands,
    ))
}

/// The estimated Jaccard similarity of two signature columns, row by row.
#[polars_expr(output_type=Float64)]
fn minhash_similarity_expr(inputs: &[Series]) -> PolarsResult<Series> {
    let left = signature_column(&inputs[0], "minhash_similarity")?;
    let right = signature_column(&inputs[1], "minhash_similarity")?;
    polars_ensure!(
        left.len() == right.len(),
        InvalidOperation: "minhash_similarity: columns of {} and {} rows", left.len(), right.len()
    );
    let mut out = Vec::with_capacity(left.len());
    for (l, r) in left.amortized_iter().zip(right.amortized_iter()) {
        let value = match (l, r) {
            (Some(l), Some(r)) => {
                let (l, r) = (l.as_ref().u64()?, r.as_ref().u64()?);
                Some(minhash::estimated_jaccard(l.cont_slice()?, r.cont_slice()?))
            }
            _ => None,
        };
        out.push(value);
    }
    Ok(Float64Chunked::from_iter_options(inputs[0].name().clone(), out.into_iter()).into_series())
}

fn signature_column<'a>(series: &'a Series, function: &str) -> PolarsResult<&'a ListChunked> {
    match series.dtype() {
        DataType::List(inner) if **inner == DataType::UInt64 => series.list(),
        other => {
            polars_bail!(InvalidOperation: "{function} needs a List(UInt64) signature column, got {other}")
        }
    }
}

fn u32_values(series: &Series, what: &str) -> PyResult<Vec<u32>> {
    let values = series
        .strict_cast(&DataType::UInt32)
        .map_err(PyPolarsErr::from)?;
    let values = values.u32().map_err(PyPolarsErr::from)?;
    if values.null_count() > 0 {
        return Err(PyValueError::new_err(format!("{what} has null values")));
    }
    Ok(values.into_no_null_iter().collect())
}

/// The `(bands, rows)` layout minimising the weighted false positive and negative areas.
#[pyfunction]
pub fn lsh_optimal_params(
    threshold: f64,
    num_perm: usize,
    fp_weight: f64,
    fn_weight: f64,
) -> (usize, usize) {
    let params = LshParams::optimal(threshold, num_perm, fp_weight, fn_weight);
    (params.bands, params.rows)
}

/// Candidate pairs `(left, right)`, `left < right`, of the nodes sharing a band hash.
#[pyfunction]
pub fn lsh_candidate_pairs(
    hashes: PySeries,
    nodes: PySeries,
    max_all_pairs: usize,
) -> PyResult<(PySeries, PySeries)> {
    let hashes = hashes
        .0
        .strict_cast(&DataType::UInt64)
        .map_err(PyPolarsErr::from)?;
    let hashes = hashes.u64().map_err(PyPolarsErr::from)?;
    if hashes.null_count() > 0 {
        return Err(PyValueError::new_err("band hashes have null values"));
    }
    let hashes: Vec<u64> = hashes.into_no_null_iter().collect();
    let nodes = u32_values(&nodes.0, "nodes")?;
    if hashes.len() != nodes.len() {
        return Err(PyValueError::new_err(format!(
            "{} band hashes but {} nodes",
            hashes.len(),
            nodes.len()
        )));
    }
    let (left, right): (Vec<u32>, Vec<u32>) = lsh::candidate_pairs(&hashes, &nodes, max_all_pairs)
        .into_iter()
        .unzip();
    Ok((
        PySeries(Series::new("left".into(), left)),
        PySeries(Series::new("right".into(), right)),
    ))
}

/// Union-find over nodes `0..n`, fed the pairs a batch at a time (see `dsc_core::lsh::UnionFind`).
#[pyclass(name = "UnionFind", module = "dsc._dsc")]
#[derive(Debug)]
pub struct PyUnionFind(UnionFind);

#[pymethods]
impl PyUnionFind {
    #[new]
    fn new(n: usize) -> PyResult<Self> {
        if u32::try_from(n).is_err() {
            return Err(PyValueError::new_err(format!(
                "{n} nodes: at most 2^32 fit"
            )));
        }
        Ok(Self(UnionFind::new(n)))
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    /// Joins the components of each pair `(left[i], right[i])`.
    fn union(&mut self, left: PySeries, right: PySeries) -> PyResult<()> {
        let left = u32_values(&left.0, "left")?;
        let right = u32_values(&right.0, "right")?;
        if left.len() != right.len() {
            return Err(PyValueError::new_err("left and right differ in length"));
        }
        let n = self.0.len();
        if let Some(&bad) = left.iter().chain(&right).find(|&&x| x as usize >= n) {
            return Err(PyValueError::new_err(format!(
                "node {bad} is not below n = {n}"
            )));
        }
        let pairs: Vec<(u32, u32)> = left.into_iter().zip(right).collect();
        self.0.union_pairs(&pairs);
        Ok(())
    }

    /// Each node's root (its component's smallest node) and the cluster-size statistics.
    fn components<'py>(&mut self, py: Python<'py>) -> PyResult<(PySeries, Bound<'py, PyDict>)> {
        let roots = self.0.roots();
        let stats = stats_dict(py, &ClusterStats::from_roots(&roots))?;
        Ok((PySeries(Series::new("root".into(), roots)), stats))
    }
}

/// Writes a `List(UInt64)` signature column, each row `num_perm` values, to a new signature
/// file (see `dsc_core::sigstore`).
#[pyfunction]
pub fn write_signature_file(
    py: Python<'_>,
    path: PathBuf,
    signatures: PySeries,
    num_perm: usize,
) -> PyResult<()> {
    let column =
        signature_column(&signatures.0, "write_signature_file").map_err(PyPolarsErr::from)?;
    let mut rows = Vec::with_capacity(column.len());
    for (index, row) in column.amortized_iter().enumerate() {
        let row =
            row.ok_or_else(|| PyValueError::new_err(format!("row {index}: null signature")))?;
        rows.push(
            row.as_ref()
                .u64()
                .map_err(PyPolarsErr::from)?
                .cont_slice()
                .map_err(PyPolarsErr::from)?
                .to_vec(),
        );
    }
    py.detach(|| sigstore::write_signatures(&path, num_perm, rows.iter().map(Vec::as_slice)))
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Pairs compared by one thread at a time.
const PAIR_CHUNK: usize = 2048;

/// The estimated Jaccard similarity of each pair of rows: row `left_row[i]` of file
/// `files[left_file[i]]` against row `right_row[i]` of file `files[right_file[i]]`.
#[pyfunction]
pub fn signature_pair_similarity(
    py: Python<'_>,
    files: Vec<PathBuf>,
    left_file: PySeries,
    left_row: PySeries,
    right_file: PySeries,
    right_row: PySeries,
) -> PyResult<PySeries> {
    let row_refs = |file: &PySeries, row: &PySeries, side: &str| -> PyResult<Vec<RowRef>> {
        let file = u32_values(&file.0, &format!("{side}_file"))?;
        let row = u32_values(&row.0, &format!("{side}_row"))?;
        if file.len() != row.len() {
            return Err(PyValueError::new_err(format!(
                "{side}_file and {side}_row differ in length"
            )));
        }
        Ok(file
            .into_iter()
            .zip(row.into_iter().map(u64::from))
            .collect())
    };
    let left = row_refs(&left_file, &left_row, "left")?;
    let right = row_refs(&right_file, &right_row, "right")?;
    if left.len() != right.len() {
        return Err(PyValueError::new_err("left and right differ in length"));
    }
    let similarities = py
        .detach(|| {
            let opened = files
                .iter()
                .map(|path| SignatureFile::open(path))
                .collect::<Result<Vec<_>, _>>()?;
            // Chunks of pairs in parallel: each reads its own rows, so memory stays per chunk.
            let chunks = left
                .par_chunks(PAIR_CHUNK)
                .zip(right.par_chunks(PAIR_CHUNK))
                .map(|(l, r)| sigstore::pair_similarities(&opened, l, r))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, sigstore::StoreError>(chunks.concat())
        })
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PySeries(Series::new("similarity".into(), similarities)))
}

fn stats_dict<'py>(py: Python<'py>, stats: &ClusterStats) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("clusters", stats.clusters)?;
    dict.set_item("clustered_rows", stats.clustered_nodes)?;
    dict.set_item("removed", stats.removed)?;
    dict.set_item("largest", stats.largest)?;
    dict.set_item("size_histogram", stats.size_histogram.clone())?;
    Ok(dict)
}
