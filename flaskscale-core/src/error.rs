//! The one error type of the crate.

/// Everything that can go wrong in `flaskscale-core`.
///
/// The variants are coarse on purpose: each says what kind of problem it is and how to move on,
/// and the message carries the offending value. New variants may be added in minor releases.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is outside its admissible range (a step that is not positive, a season length
    /// below 2, a level outside (0, 1), a horizon of 0, ...). Fix the argument named in the
    /// message and call again.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),

    /// The input data are unusable as given: negative or infinite values, timestamps that do not
    /// increase or are off the regular grid, arrays of mismatched length. The message says where.
    #[error("invalid data: {0}")]
    InvalidData(String),

    /// The history is too short for what was asked (fewer points than a model needs). The
    /// message says how many points are needed and how many there are; collect more data or
    /// choose a simpler model.
    #[error("not enough data: need {needed} points, got {got} ({what})")]
    NotEnoughData {
        /// The number of (non-missing) points required.
        needed: usize,
        /// The number of points available.
        got: usize,
        /// What required them.
        what: String,
    },

    /// Text input (CSV, access log, saved state) could not be parsed. `line` is 1-based; 0 when
    /// the problem is not tied to one line.
    #[error("{}", parse_message(*.line, .message))]
    Parse {
        /// 1-based line number, 0 when not tied to a line.
        line: usize,
        /// What was wrong with it.
        message: String,
    },

    /// A model could not be fitted to these data (for instance a multiplicative model on data
    /// with zeros, or an optimiser that found no finite solution). Choose another model or
    /// clean the data.
    #[error("fit failed: {0}")]
    Fit(String),

    /// Reading or writing a file failed. The message names the path and the system's reason.
    #[error("i/o error: {0}")]
    Io(String),

    /// The work was stopped on request (a [`crate::sim::Progress`] was cancelled) before it
    /// finished; nothing was produced. Run it again to get the result.
    #[error("cancelled: {0}")]
    Cancelled(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn param(msg: impl Into<String>) -> Self {
        Error::InvalidParameter(msg.into())
    }
    pub(crate) fn data(msg: impl Into<String>) -> Self {
        Error::InvalidData(msg.into())
    }
    pub(crate) fn parse(line: usize, msg: impl Into<String>) -> Self {
        Error::Parse {
            line,
            message: msg.into(),
        }
    }
    pub(crate) fn io(path: &std::path::Path, err: &std::io::Error) -> Self {
        Error::Io(format!("{}: {err}", path.display()))
    }
}

/// "parse error at line N: …", or without the line when it is 0 (not tied to one line).
fn parse_message(line: usize, message: &str) -> String {
    if line == 0 {
        format!("parse error: {message}")
    } else {
        format!("parse error at line {line}: {message}")
    }
}
