//! The library's error type, shared by the math modules and the C ABI.
//!
//! Every failure carries a kind (which the C ABI turns into a status code) and a message meant
//! for a person: it names the argument or the file and says what was expected.

use std::fmt;

/// What went wrong, coarse enough for a caller to branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An argument is out of its domain (lambda <= 0, zero rows, unknown enum value, NULL).
    InvalidArgument,
    /// Dimensions of two inputs disagree, or disagree with a model.
    ShapeMismatch,
    /// Input data holds NaN or infinity.
    NonFinite,
    /// A file could not be read or written.
    Io,
    /// A file is not a scones model, is truncated, or has an unsupported version.
    Format,
    /// The requested device (e.g. CUDA) is not present.
    DeviceUnavailable,
    /// The host asked to stop through the progress callback.
    Cancelled,
    /// Training or sampling produced non-finite values.
    Diverged,
    /// A host callback reported a failure.
    Callback,
    /// A bug or an unexpected libtorch failure; the message says where.
    Internal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    pub fn shape(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ShapeMismatch, message)
    }
    pub fn non_finite(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NonFinite, message)
    }
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, message)
    }
    pub fn format(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Format, message)
    }
    pub fn device(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::DeviceUnavailable, message)
    }
    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Cancelled, message)
    }
    pub fn diverged(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Diverged, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    /// Prefixes the message with where it happened, keeping the kind.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<tch::TchError> for Error {
    fn from(e: tch::TchError) -> Self {
        // libtorch reports shape problems as generic errors; they only reach here when our own
        // validation missed a case, so they are internal errors with libtorch's text attached.
        Error::internal(format!("libtorch: {e}"))
    }
}
