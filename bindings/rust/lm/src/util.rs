//! Conversions at the FFI boundary: paths and texts to the C forms, C strings back.
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::path::Path;

use crate::error::{invalid, Result};

/// A path as a C string (bytes as they are on Unix); a NUL byte in it is an error.
pub(crate) fn path_cstring(path: &Path) -> Result<CString> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().into_owned().into_bytes();
    CString::new(bytes).map_err(|_| invalid(format!("the path {:?} holds a NUL byte", path)))
}

pub(crate) fn cstring(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| invalid(format!("the {} {:?} holds a NUL byte", what, s)))
}

/// `n` texts as the C arrays `const char *const *texts` and `const size_t *lens` (texts need not
/// be NUL-terminated; the pointers borrow the caller's bytes).
pub(crate) struct Texts {
    pub ptrs: Vec<*const c_char>,
    pub lens: Vec<usize>,
}

impl Texts {
    pub(crate) fn new<T: AsRef<[u8]>>(texts: &[T]) -> Texts {
        Texts {
            ptrs: texts.iter().map(|t| t.as_ref().as_ptr() as *const c_char).collect(),
            lens: texts.iter().map(|t| t.as_ref().len()).collect(),
        }
    }
}

/// A C string owned by the library (static or owned by a handle) as &str; None for NULL or
/// non-UTF-8.
///
/// # Safety
/// `p` is NULL or NUL-terminated and outlives `'a`.
pub(crate) unsafe fn borrowed_str<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        None
    } else {
        CStr::from_ptr(p).to_str().ok()
    }
}

/// A string the library allocated for the caller ("free with lm_free()"): copied, then freed.
///
/// # Safety
/// `p` is NULL or a NUL-terminated buffer from liblm that nobody else frees.
pub(crate) unsafe fn take_string(p: *mut c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    let s = CStr::from_ptr(p).to_string_lossy().into_owned();
    lm_sys::lm_free(p as *mut std::os::raw::c_void);
    s
}

/// A slice from a C array that may be NULL when empty.
///
/// # Safety
/// When `n > 0`, `p` points to `n` initialised values that outlive `'a`.
pub(crate) unsafe fn slice<'a, T>(p: *const T, n: usize) -> &'a [T] {
    if n == 0 || p.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(p, n)
    }
}
