//! Files of MinHash signatures, one fixed-size row per input row, read back by row number.
//!
//! Dedup stage 1 writes one file per shard. Stages 2 and 4 then read only the rows of the
//! candidate pairs and removals they look at, so no stage re-reads the corpus's signatures.
//!
//! Layout: the magic `DSCSIG01`, `num_perm` and the row count as little-endian u64, then the
//! rows, each `num_perm` little-endian u64.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::minhash::estimated_jaccard;

const MAGIC: &[u8; 8] = b"DSCSIG01";
const HEADER_BYTES: u64 = 24;

/// What went wrong with which file (and row).
#[derive(Debug)]
pub enum StoreError {
    Io { path: PathBuf, source: io::Error },
    Format { path: PathBuf, reason: String },
    Row { path: PathBuf, row: u64, rows: u64 },
    File { index: u32, files: usize },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Format { path, reason } => {
                write!(f, "{}: not a signature file: {reason}", path.display())
            }
            Self::Row { path, row, rows } => {
                write!(
                    f,
                    "{}: row {row} asked for, the file has {rows}",
                    path.display()
                )
            }
            Self::File { index, files } => {
                write!(f, "signature file {index} asked for, {files} given")
            }
        }
    }
}

impl std::error::Error for StoreError {}

/// Writes `rows` (each of `num_perm` values) to a new signature file at `path`.
pub fn write_signatures<'a>(
    path: &Path,
    num_perm: usize,
    rows: impl ExactSizeIterator<Item = &'a [u64]>,
) -> Result<(), StoreError> {
    let io_error = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut out = BufWriter::new(File::create(path).map_err(io_error)?);
    let mut header = MAGIC.to_vec();
    header.extend_from_slice(&(num_perm as u64).to_le_bytes());
    header.extend_from_slice(&(rows.len() as u64).to_le_bytes());
    out.write_all(&header).map_err(io_error)?;
    let mut bytes = Vec::with_capacity(num_perm * 8);
    for (index, row) in rows.enumerate() {
        if row.len() != num_perm {
            return Err(StoreError::Format {
                path: path.to_path_buf(),
                reason: format!("row {index} has {} values, not {num_perm}", row.len()),
            });
        }
        bytes.clear();
        row.iter()
            .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
        out.write_all(&bytes).map_err(io_error)?;
    }
    out.flush().map_err(io_error)
}

/// An open signature file, checked against its header.
#[derive(Debug)]
pub struct SignatureFile {
    path: PathBuf,
    file: File,
    num_perm: usize,
    rows: u64,
}

impl SignatureFile {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let io_error = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        let format_error = |reason: String| StoreError::Format {
            path: path.to_path_buf(),
            reason,
        };
        let mut file = File::open(path).map_err(io_error)?;
        let mut header = [0u8; HEADER_BYTES as usize];
        file.read_exact(&mut header)
            .map_err(|_| format_error("shorter than its header".into()))?;
        if &header[..8] != MAGIC {
            return Err(format_error("wrong magic bytes".into()));
        }
        let field = |at: usize| {
            let mut value = [0u8; 8];
            value.copy_from_slice(&header[at..at + 8]);
            u64::from_le_bytes(value)
        };
        let (num_perm, rows) = (field(8), field(16));
        let expected = num_perm
            .checked_mul(rows)
            .and_then(|values| values.checked_mul(8))
            .and_then(|bytes| bytes.checked_add(HEADER_BYTES));
        let actual = file.metadata().map_err(io_error)?.len();
        if num_perm == 0 || expected != Some(actual) {
            return Err(format_error(format!(
                "{actual} bytes do not hold {rows} rows of {num_perm} values"
            )));
        }
        let num_perm = usize::try_from(num_perm)
            .map_err(|_| format_error(format!("num_perm {num_perm} is too large")))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            num_perm,
            rows,
        })
    }

    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The signature in row `row` (a positional read: the file can be shared by threads).
    pub fn read_row(&self, row: u64) -> Result<Vec<u64>, StoreError> {
        if row >= self.rows {
            return Err(StoreError::Row {
                path: self.path.clone(),
                row,
                rows: self.rows,
            });
        }
        let width = self.num_perm as u64 * 8;
        let mut bytes = vec![0u8; self.num_perm * 8];
        read_exact_at(&self.file, &mut bytes, HEADER_BYTES + row * width).map_err(|source| {
            StoreError::Io {
                path: self.path.clone(),
                source,
            }
        })?;
        Ok(bytes
            .chunks_exact(8)
            .map(|b| {
                let mut value = [0u8; 8];
                value.copy_from_slice(b);
                u64::from_le_bytes(value)
            })
            .collect())
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// A row of a signature file: the file's index in a list of files, and the row number.
pub type RowRef = (u32, u64);

/// The estimated Jaccard similarity of each pair `(left[i], right[i])` of rows of `files`.
/// Every distinct row is read once, in file and row order; memory holds those rows only.
pub fn pair_similarities(
    files: &[SignatureFile],
    left: &[RowRef],
    right: &[RowRef],
) -> Result<Vec<f64>, StoreError> {
    let mut rows: BTreeMap<RowRef, Vec<u64>> = left
        .iter()
        .chain(right)
        .map(|&row| (row, Vec::new()))
        .collect();
    let count = files.len();
    for (&(index, row), signature) in rows.iter_mut() {
        let file = files.get(index as usize).ok_or(StoreError::File {
            index,
            files: count,
        })?;
        *signature = file.read_row(row)?;
    }
    Ok(left
        .iter()
        .zip(right)
        .map(|(l, r)| match (rows.get(l), rows.get(r)) {
            (Some(l), Some(r)) => estimated_jaccard(l, r),
            _ => 0.0, // every row was read above
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dsc-sigstore-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join(name)
    }

    #[test]
    fn rows_round_trip_and_pairs_compare() {
        let path = temp_path("round_trip.sig");
        let rows: Vec<Vec<u64>> = vec![vec![1, 2, 3, 4], vec![1, 2, 0, 0], vec![u64::MAX; 4]];
        write_signatures(&path, 4, rows.iter().map(Vec::as_slice)).expect("written");
        let file = SignatureFile::open(&path).expect("opened");
        assert_eq!((file.num_perm(), file.rows()), (4, 3));
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(&file.read_row(i as u64).expect("row"), row);
        }
        let files = vec![file, SignatureFile::open(&path).expect("opened")];
        let similarities =
            pair_similarities(&files, &[(0, 0), (0, 0)], &[(1, 1), (0, 2)]).expect("pairs");
        assert_eq!(similarities, vec![0.5, 0.0]);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn bad_files_and_rows_are_named() {
        let path = temp_path("bad.sig");
        std::fs::write(&path, b"DSCSIG01\x04\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0short").expect("write");
        let err = SignatureFile::open(&path).expect_err("truncated");
        assert!(err.to_string().contains("bad.sig") && err.to_string().contains("2 rows"));
        std::fs::write(&path, b"PAR1 not a signature file at all").expect("write");
        assert!(SignatureFile::open(&path)
            .expect_err("magic")
            .to_string()
            .contains("magic"));

        let path = temp_path("one_row.sig");
        write_signatures(&path, 2, [[7u64, 8].as_slice()].into_iter()).expect("written");
        let file = SignatureFile::open(&path).expect("opened");
        let err = file.read_row(1).expect_err("past the end");
        assert!(err.to_string().contains("row 1 asked for, the file has 1"));
        let err = pair_similarities(&[file], &[(3, 0)], &[(0, 0)]).expect_err("no file 3");
        assert!(err.to_string().contains("file 3"));
        let err = write_signatures(&path, 3, [[1u64].as_slice()].into_iter()).expect_err("width");
        assert!(err.to_string().contains("row 0 has 1 values, not 3"));
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(temp_path("bad.sig"));
    }
}
