//! Repository-level ordering over Polars columns: rows are grouped by repository in Rust and
//! the repositories run in parallel (rayon), each through `dsc_core::repo_sample`.
//!
//! These are `#[pyfunction]`s over whole columns rather than expressions, because a
//! repository is a group of rows and its output (samples) does not line up with its input.
//! Output rows follow the repository name, then the sample order: deterministic whatever the
//! thread count or the input row order.

use std::collections::BTreeMap;

use dsc_core::imports::{Import, Lang};
use dsc_core::repo_sample::{
    order_repository, repository_imports, RepoFile, RepoOrdering, SampleConfig, SampleMode,
    MANIFEST_NAMES,
};
use dsc_core::toposort::order_subgraphs;
use polars::prelude::*;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_polars::error::PyPolarsErr;
use pyo3_polars::{PyDataFrame, PySeries};
use rayon::prelude::*;

use crate::input::strings;

/// The file rows of many repositories, borrowed from the input columns. Rows flagged
/// `manifest` are read by the resolvers only (see `MANIFEST_NAMES`): they are no file of the
/// output.
struct FileRows<'a> {
    repo: Vec<&'a str>,
    path: Vec<&'a str>,
    lang: Vec<Option<&'a str>>,
    content: Vec<&'a str>,
    manifest: Vec<bool>,
}

/// One repository: its name, its file rows and its manifest rows.
struct RepoRows<'a> {
    name: &'a str,
    files: Vec<usize>,
    manifests: Vec<usize>,
}

impl<'a> FileRows<'a> {
    fn read(
        repo: &'a Series,
        path: &'a Series,
        lang: &'a Series,
        content: &'a Series,
        manifest: &'a Series,
    ) -> PyResult<Self> {
        let lang = if lang.dtype() == &DataType::Null {
            vec![None; lang.len()]
        } else {
            strings(lang, "lang")
                .map_err(PyPolarsErr::from)?
                .iter()
                .collect()
        };
        let rows = FileRows {
            repo: required(repo, "repo")?,
            path: required(path, "path")?,
            lang,
            content: required(content, "content")?,
            manifest: flags(manifest, "manifest")?,
        };
        let height = rows.repo.len();
        if [
            rows.path.len(),
            rows.lang.len(),
            rows.content.len(),
            rows.manifest.len(),
        ]
        .iter()
        .any(|&n| n != height)
        {
            return Err(PyValueError::new_err(
                "repo, path, lang, content and manifest must have the same length",
            ));
        }
        Ok(rows)
    }

    /// Row indices per repository, repositories in name order.
    fn by_repository(&self) -> Vec<RepoRows<'a>> {
        let mut groups: BTreeMap<&'a str, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for (row, &repo) in self.repo.iter().enumerate() {
            let (files, manifests) = groups.entry(repo).or_default();
            if self.manifest[row] {
                manifests.push(row);
            } else {
                files.push(row);
            }
        }
        groups
            .into_iter()
            .map(|(name, (files, manifests))| RepoRows {
                name,
                files,
                manifests,
            })
            .collect()
    }

    fn repo_files(&self, rows: &[usize]) -> Vec<RepoFile<'a>> {
        rows.iter()
            .map(|&r| RepoFile {
                path: self.path[r],
                lang: self.lang[r],
                content: self.content[r],
            })
            .collect()
    }
}

/// A Boolean column without nulls.
fn flags(s: &Series, role: &str) -> PyResult<Vec<bool>> {
    let values = s.bool().map_err(PyPolarsErr::from)?;
    if values.null_count() > 0 {
        return Err(PyValueError::new_err(format!("{role} has null values")));
    }
    Ok(values.iter().map(|v| v.unwrap_or(false)).collect())
}

/// A String column without nulls; the error names the column and the first null row.
fn required<'a>(s: &'a Series, role: &str) -> PyResult<Vec<&'a str>> {
    let values = strings(s, role).map_err(PyPolarsErr::from)?;
    values
        .iter()
        .enumerate()
        .map(|(row, v)| {
            v.ok_or_else(|| PyValueError::new_err(format!("{role} is null in row {row}")))
        })
        .collect()
}

fn sample_config(mode: &str, repo_level_languages: &[String]) -> PyResult<SampleConfig> {
    let mode = match mode {
        "subgraph" => SampleMode::Subgraph,
        "repository" => SampleMode::Repository,
        other => {
            return Err(PyValueError::new_err(format!(
                "mode must be 'subgraph' or 'repository', got {other:?}"
            )))
        }
    };
    let repo_level = repo_level_languages
        .iter()
        .map(|name| {
            Lang::from_name(name).ok_or_else(|| {
                PyValueError::new_err(format!("no import support for language {name:?}"))
            })
        })
        .collect::<PyResult<Vec<Lang>>>()?;
    Ok(SampleConfig { mode, repo_level })
}

/// Names of the languages whose imports are extracted (Linguist names).
#[pyfunction]
pub fn import_languages() -> Vec<&'static str> {
    Lang::ALL.iter().map(|l| l.name()).collect()
}

/// File names of the manifests the resolvers read (`go.mod`, ...).
#[pyfunction]
pub fn manifest_names() -> Vec<&'static str> {
    MANIFEST_NAMES.to_vec()
}

/// Repository samples: `repo`, `sample_id`, `text`, `files`, `langs`, `offsets`.
#[pyfunction]
#[pyo3(signature = (repo, path, lang, content, manifest, *, mode, repo_level_languages))]
#[allow(clippy::too_many_arguments)] // one argument per input column, as Python passes them
pub fn order_repositories(
    py: Python<'_>,
    repo: PySeries,
    path: PySeries,
    lang: PySeries,
    content: PySeries,
    manifest: PySeries,
    mode: &str,
    repo_level_languages: Vec<String>,
) -> PyResult<PyDataFrame> {
    let cfg = sample_config(mode, &repo_level_languages)?;
    let rows = FileRows::read(&repo.0, &path.0, &lang.0, &content.0, &manifest.0)?;
    let groups = rows.by_repository();
    let ordered: Vec<RepoOrdering> = py
        .detach(|| {
            groups
                .par_iter()
                .map(|group| {
                    let files = rows.repo_files(&group.files);
                    order_repository(&files, &rows.repo_files(&group.manifests), &cfg)
                        .map_err(|e| format!("repository {:?}: {e}", group.name))
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .map_err(PyValueError::new_err)?;
    samples_frame(&rows, &groups, &ordered)
        .map(PyDataFrame)
        .map_err(|e| PyPolarsErr::from(e).into())
}

fn samples_frame(
    rows: &FileRows<'_>,
    groups: &[RepoRows<'_>],
    ordered: &[RepoOrdering],
) -> PolarsResult<DataFrame> {
    let total: usize = ordered.iter().map(|o| o.samples.len()).sum();
    let mut repo = Vec::with_capacity(total);
    let mut sample_id = Vec::with_capacity(total);
    let mut text = Vec::with_capacity(total);
    let mut files = ListStringChunkedBuilder::new("files".into(), total, rows.path.len());
    let mut langs = ListStringChunkedBuilder::new("langs".into(), total, rows.path.len());
    let mut offsets = ListPrimitiveChunkedBuilder::<UInt64Type>::new(
        "offsets".into(),
        total,
        total + rows.path.len(),
        DataType::UInt64,
    );
    for (group, ordering) in groups.iter().zip(ordered) {
        for (id, sample) in (0u32..).zip(&ordering.samples) {
            let members: Vec<usize> = sample
                .files
                .iter()
                .map(|&f| group.files[f as usize])
                .collect();
            repo.push(group.name);
            sample_id.push(id);
            text.push(sample.text.as_str());
            files.append_values_iter(members.iter().map(|&r| rows.path[r]));
            langs.append_trusted_len_iter(members.iter().map(|&r| rows.lang[r]));
            offsets.append_slice(&sample.offsets);
        }
    }
    DataFrame::new_infer_height(vec![
        Column::new("repo".into(), repo),
        Column::new("sample_id".into(), sample_id),
        Column::new("text".into(), text),
        files.finish().into_column(),
        langs.finish().into_column(),
        offsets.finish().into_column(),
    ])
}

/// Every file's imports: `repo`, `path`, `imports` (specs), `unresolved` (the specs with no
/// file of the repository) and `deps` (the paths they resolved to), in input row order;
/// manifest rows have none.
#[pyfunction]
pub fn file_imports(
    py: Python<'_>,
    repo: PySeries,
    path: PySeries,
    lang: PySeries,
    content: PySeries,
    manifest: PySeries,
) -> PyResult<PyDataFrame> {
    let rows = FileRows::read(&repo.0, &path.0, &lang.0, &content.0, &manifest.0)?;
    let groups = rows.by_repository();
    let per_repo: Vec<Vec<Vec<Import>>> = py
        .detach(|| {
            groups
                .par_iter()
                .map(|group| {
                    let files = rows.repo_files(&group.files);
                    repository_imports(&files, &rows.repo_files(&group.manifests))
                        .map_err(|e| format!("repository {:?}: {e}", group.name))
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .map_err(PyValueError::new_err)?;
    let mut by_row: Vec<(&[Import], &[usize])> = vec![(&[], &[]); rows.path.len()];
    for (group, imports) in groups.iter().zip(&per_repo) {
        for (&row, file_imports) in group.files.iter().zip(imports) {
            by_row[row] = (file_imports, &group.files);
        }
    }
    imports_frame(&rows, &by_row)
        .map(PyDataFrame)
        .map_err(|e| PyPolarsErr::from(e).into())
}

fn imports_frame(rows: &FileRows<'_>, by_row: &[(&[Import], &[usize])]) -> PolarsResult<DataFrame> {
    let n = by_row.len();
    let mut imports = ListStringChunkedBuilder::new("imports".into(), n, n);
    let mut unresolved = ListStringChunkedBuilder::new("unresolved".into(), n, n);
    let mut deps = ListStringChunkedBuilder::new("deps".into(), n, n);
    for &(file_imports, group) in by_row {
        imports.append_values_iter(file_imports.iter().map(|i| i.spec.as_str()));
        unresolved.append_values_iter(
            file_imports
                .iter()
                .filter(|i| i.targets.is_empty())
                .map(|i| i.spec.as_str()),
        );
        let mut paths: Vec<&str> = file_imports
            .iter()
            .flat_map(|i| &i.targets)
            .map(|&t| rows.path[group[t as usize]])
            .collect();
        paths.sort_unstable();
        paths.dedup();
        deps.append_values_iter(paths.into_iter());
    }
    DataFrame::new_infer_height(vec![
        Column::new("repo".into(), &rows.repo),
        Column::new("path".into(), &rows.path),
        imports.finish().into_column(),
        unresolved.finish().into_column(),
        deps.finish().into_column(),
    ])
}

/// Algorithm 1 (refined: see `dsc_core::toposort`) on a bare graph of `num_nodes` nodes and `(sources[i], targets[i])` edges
/// (dependency first): the emitted nodes and the subgraph index of each, in emission order.
#[pyfunction]
pub fn min_in_degree_order(
    py: Python<'_>,
    num_nodes: usize,
    sources: PySeries,
    targets: PySeries,
) -> PyResult<(PySeries, PySeries)> {
    let sources = node_ids(&sources.0, "sources", num_nodes)?;
    let targets = node_ids(&targets.0, "targets", num_nodes)?;
    if sources.len() != targets.len() {
        return Err(PyValueError::new_err(
            "sources and targets must have the same length",
        ));
    }
    let edges: Vec<(u32, u32)> = sources.into_iter().zip(targets).collect();
    let subgraphs = py.detach(|| order_subgraphs(num_nodes, &edges));
    let subgraph_of: Vec<u32> = (0u32..)
        .zip(&subgraphs)
        .flat_map(|(k, nodes)| std::iter::repeat_n(k, nodes.len()))
        .collect();
    let order = Series::new("node".into(), subgraphs.concat());
    Ok((
        PySeries(order),
        PySeries(Series::new("subgraph".into(), subgraph_of)),
    ))
}

fn node_ids(series: &Series, what: &str, num_nodes: usize) -> PyResult<Vec<u32>> {
    let ids = series
        .strict_cast(&DataType::UInt32)
        .map_err(PyPolarsErr::from)?;
    let ids = ids.u32().map_err(PyPolarsErr::from)?;
    if ids.null_count() > 0 {
        return Err(PyValueError::new_err(format!("{what} has null values")));
    }
    let ids: Vec<u32> = ids.into_no_null_iter().collect();
    if let Some(bad) = ids.iter().find(|&&id| id as usize >= num_nodes) {
        return Err(PyValueError::new_err(format!(
            "{what} names node {bad}, but num_nodes is {num_nodes}"
        )));
    }
    Ok(ids)
}
