//! `dsc._dsc`: thin bindings over `dsc-core`. Each module wraps one stage's functions as
//! Polars expression plugins (`#[polars_expr]`); the Python package registers them.

mod filters;
mod input;

use pyo3::prelude::*;
use pyo3_polars::PolarsAllocator;

#[global_allocator]
static ALLOC: PolarsAllocator = PolarsAllocator::new();

#[pymodule]
fn _dsc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
