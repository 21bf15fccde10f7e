//! Errors: every fallible call returns `Result<_, LmError>`, the C status and the library's
//! sentence (lm_last_error(), read on the thread that made the call, right after it).
use std::ffi::CStr;
use std::fmt;

use lm_sys as sys;

/// An `lm_status` other than LM_OK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    InvalidArgument,
    NoMemory,
    Io,
    NotFound,
    Permission,
    Format,
    Unsupported,
    Utf8,
    Range,
    Shape,
    State,
    Internal,
    BufferTooSmall,
    Numeric,
    /// A code this binding does not know (a newer library).
    Unknown(i32),
}

impl Status {
    /// The status of a C code (LM_OK is not a status of an error: it maps to Unknown(0)).
    pub fn from_code(code: i32) -> Status {
        match code {
            sys::LM_ERR_INVALID_ARGUMENT => Status::InvalidArgument,
            sys::LM_ERR_NOMEM => Status::NoMemory,
            sys::LM_ERR_IO => Status::Io,
            sys::LM_ERR_NOT_FOUND => Status::NotFound,
            sys::LM_ERR_PERMISSION => Status::Permission,
            sys::LM_ERR_FORMAT => Status::Format,
            sys::LM_ERR_UNSUPPORTED => Status::Unsupported,
            sys::LM_ERR_UTF8 => Status::Utf8,
            sys::LM_ERR_RANGE => Status::Range,
            sys::LM_ERR_SHAPE => Status::Shape,
            sys::LM_ERR_STATE => Status::State,
            sys::LM_ERR_INTERNAL => Status::Internal,
            sys::LM_ERR_BUFFER_TOO_SMALL => Status::BufferTooSmall,
            sys::LM_ERR_NUMERIC => Status::Numeric,
            other => Status::Unknown(other),
        }
    }

    /// The C code (`lm_status`).
    pub fn code(self) -> i32 {
        match self {
            Status::InvalidArgument => sys::LM_ERR_INVALID_ARGUMENT,
            Status::NoMemory => sys::LM_ERR_NOMEM,
            Status::Io => sys::LM_ERR_IO,
            Status::NotFound => sys::LM_ERR_NOT_FOUND,
            Status::Permission => sys::LM_ERR_PERMISSION,
            Status::Format => sys::LM_ERR_FORMAT,
            Status::Unsupported => sys::LM_ERR_UNSUPPORTED,
            Status::Utf8 => sys::LM_ERR_UTF8,
            Status::Range => sys::LM_ERR_RANGE,
            Status::Shape => sys::LM_ERR_SHAPE,
            Status::State => sys::LM_ERR_STATE,
            Status::Internal => sys::LM_ERR_INTERNAL,
            Status::BufferTooSmall => sys::LM_ERR_BUFFER_TOO_SMALL,
            Status::Numeric => sys::LM_ERR_NUMERIC,
            Status::Unknown(code) => code,
        }
    }

    /// The library's name of the code, e.g. "LM_ERR_NOT_FOUND" (lm_status_string()).
    pub fn name(self) -> &'static str {
        // SAFETY: lm_status_string accepts any value and returns a static NUL-terminated string.
        unsafe { static_str(sys::lm_status_string(self.code())) }
    }

    /// The library's description of the code, e.g. "file or item not found".
    pub fn description(self) -> &'static str {
        // SAFETY: as in name().
        unsafe { static_str(sys::lm_status_description(self.code())) }
    }
}

/// # Safety
/// `p` is NULL or a NUL-terminated string that lives for the whole program.
pub(crate) unsafe fn static_str(p: *const std::os::raw::c_char) -> &'static str {
    if p.is_null() {
        return "";
    }
    CStr::from_ptr(p).to_str().unwrap_or("")
}

/// A failed liblm call: its status and the sentence that names what failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LmError {
    status: Status,
    message: String,
}

impl LmError {
    /// An error made by this binding (an argument it refuses before calling C).
    pub fn new(status: Status, message: impl Into<String>) -> LmError {
        LmError { status, message: message.into() }
    }

    /// The error of a C call that returned `code`: lm_last_error() of this thread.
    pub(crate) fn last(code: sys::lm_status) -> LmError {
        // SAFETY: lm_last_error never returns NULL; the text is valid until the next call on this
        // thread, and it is copied here at once.
        let message = unsafe { CStr::from_ptr(sys::lm_last_error()) }.to_string_lossy().into_owned();
        LmError { status: Status::from_code(code), message }
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// The C code (`lm_status`).
    pub fn code(&self) -> i32 {
        self.status.code()
    }

    /// The library's sentence, e.g. "no config.json in /models/x".
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for LmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status.name(), self.message)
    }
}

impl std::error::Error for LmError {}

/// The result of every fallible call.
pub type Result<T> = std::result::Result<T, LmError>;

/// Ok for LM_OK, else the thread's last error.
pub(crate) fn check(code: sys::lm_status) -> Result<()> {
    if code == sys::LM_OK {
        Ok(())
    } else {
        Err(LmError::last(code))
    }
}

pub(crate) fn invalid(message: impl Into<String>) -> LmError {
    LmError::new(Status::InvalidArgument, message)
}
