//! Which instruction-set build of a vectorised kernel runs: the best one the CPU supports, or
//! the one named by the environment variable `DSC_SIMD` (`portable`, `avx2` or `avx512`), so
//! that every build can be measured and checked against the others on one machine.
//!
//! The builds compute the same values; only their speed differs.

use std::fmt;

/// The environment variable that forces a build.
pub const SIMD_ENV: &str = "DSC_SIMD";

/// A build of a kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimdPath {
    /// The compiler's baseline for the target (SSE2 on x86-64).
    Portable,
    /// x86-64 AVX2: four 64-bit lanes.
    Avx2,
    /// x86-64 AVX-512 F, DQ and VL: eight 64-bit lanes and an unsigned 64-bit minimum.
    Avx512,
}

/// `DSC_SIMD` names no build, or one this CPU cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimdError {
    Unknown(String),
    Unsupported(SimdPath),
}

impl fmt::Display for SimdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(value) => write!(
                f,
                "{SIMD_ENV}={value:?} is not a SIMD path (portable, avx2, avx512 or auto)"
            ),
            Self::Unsupported(path) => {
                write!(f, "{SIMD_ENV}={path} is not supported by this CPU")
            }
        }
    }
}

impl std::error::Error for SimdError {}

impl fmt::Display for SimdPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Portable => "portable",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        })
    }
}

impl SimdPath {
    /// `DSC_SIMD` if set (and not `auto`), else the best build this CPU supports.
    pub fn from_env() -> Result<Self, SimdError> {
        match std::env::var(SIMD_ENV) {
            Ok(value) if value != "auto" && !value.is_empty() => Self::parse(&value),
            _ => Ok(Self::best_supported()),
        }
    }

    /// The named build, if this CPU supports it.
    pub fn parse(name: &str) -> Result<Self, SimdError> {
        let path = match name {
            "portable" => Self::Portable,
            "avx2" => Self::Avx2,
            "avx512" => Self::Avx512,
            other => return Err(SimdError::Unknown(other.to_string())),
        };
        if !path.is_supported() {
            return Err(SimdError::Unsupported(path));
        }
        Ok(path)
    }

    /// The fastest build this CPU runs.
    pub fn best_supported() -> Self {
        [Self::Avx512, Self::Avx2]
            .into_iter()
            .find(|path| path.is_supported())
            .unwrap_or(Self::Portable)
    }

    /// Whether this CPU has every feature the build is compiled for.
    pub fn is_supported(self) -> bool {
        match self {
            Self::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Self::Avx2 | Self::Avx512 => false,
        }
    }
}

/// The x86 vector features the whole crate was compiled with (the portable build's level).
pub fn compiled_features() -> Vec<&'static str> {
    let features = [
        ("sse2", cfg!(target_feature = "sse2")),
        ("sse4.2", cfg!(target_feature = "sse4.2")),
        ("avx", cfg!(target_feature = "avx")),
        ("avx2", cfg!(target_feature = "avx2")),
        ("avx512f", cfg!(target_feature = "avx512f")),
    ];
    features
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_are_refused() {
        for path in [SimdPath::Portable, SimdPath::Avx2, SimdPath::Avx512] {
            if path.is_supported() {
                assert_eq!(SimdPath::parse(&path.to_string()), Ok(path));
            } else {
                assert_eq!(
                    SimdPath::parse(&path.to_string()),
                    Err(SimdError::Unsupported(path))
                );
            }
        }
        assert_eq!(
            SimdPath::parse("sse9"),
            Err(SimdError::Unknown("sse9".into()))
        );
        assert!(SimdPath::best_supported().is_supported());
    }
}
