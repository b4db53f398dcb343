//! The Rust defaults of every stage's configuration, so that a test can hold the Python
//! dataclasses (what users set) to the same values: the defaults are written on both sides of
//! the boundary, and this is where a drift would show.

use dsc_core::decont::DecontConfig;
use dsc_core::file_filter::FilterConfig;
use dsc_core::minhash::MinHashParams;
use dsc_core::quality::QualityRules;
use dsc_core::repo_sample::{SampleConfig, SampleMode};
use dsc_syntax::Budget;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use serde_json::json;

/// The defaults as JSON: `{"filters": ..., "minhash": ..., "quality_rules": ...,
/// "syntax_budget": ..., "decont": ..., "ordering": ...}`.
#[pyfunction]
pub fn default_configs() -> PyResult<String> {
    let budget = Budget::default();
    let sample = SampleConfig::default();
    let mode = match sample.mode {
        SampleMode::Subgraph => "subgraph",
        SampleMode::Repository => "repository",
    };
    let defaults = json!({
        "filters": FilterConfig::default(),
        "minhash": MinHashParams::default(),
        "quality_rules": QualityRules::default(),
        "syntax_budget": {
            "max_bytes": budget.max_bytes,
            "max_steps": budget.max_steps,
            "guard_millis": budget.guard_millis,
        },
        "decont": DecontConfig::default(),
        "ordering": {
            "mode": mode,
            "repo_level_languages": sample.repo_level.iter().map(|l| l.name()).collect::<Vec<_>>(),
        },
    });
    serde_json::to_string(&defaults).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}
