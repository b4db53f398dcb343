//! `dsc._dsc`: thin bindings over `dsc-core`. Each module wraps one stage's functions as
//! Polars expression plugins (`#[polars_expr]`); the Python package registers them.

mod decont;
mod dedup;
mod defaults;
mod filters;
mod input;
mod ordering;
mod redact;
mod screen;

use pyo3::prelude::*;
use pyo3_polars::PolarsAllocator;

#[global_allocator]
static ALLOC: PolarsAllocator = PolarsAllocator::new();

/// Threads of this module's Rayon pool, which starts on first use sized by `RAYON_NUM_THREADS`
/// (default: every core). It is not Polars' pool: `dsc.threads` sizes both.
#[pyfunction]
fn rayon_threads() -> usize {
    rayon::current_num_threads()
}

#[pymodule]
fn _dsc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(rayon_threads, m)?)?;
    m.add_function(wrap_pyfunction!(defaults::default_configs, m)?)?;
    m.add_function(wrap_pyfunction!(dedup::lsh_optimal_params, m)?)?;
    m.add_function(wrap_pyfunction!(dedup::minhash_kernels, m)?)?;
    m.add_function(wrap_pyfunction!(dedup::lsh_candidate_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(dedup::write_signature_file, m)?)?;
    m.add_function(wrap_pyfunction!(dedup::signature_pair_similarity, m)?)?;
    m.add_function(wrap_pyfunction!(ordering::import_languages, m)?)?;
    m.add_function(wrap_pyfunction!(ordering::manifest_names, m)?)?;
    m.add_function(wrap_pyfunction!(ordering::order_repositories, m)?)?;
    m.add_function(wrap_pyfunction!(ordering::file_imports, m)?)?;
    m.add_function(wrap_pyfunction!(ordering::min_in_degree_order, m)?)?;
    m.add_class::<decont::PyDecontIndex>()?;
    m.add_class::<dedup::PyUnionFind>()?;
    Ok(())
}
