/* Internal: setting the thread-local error text that lmi_last_error() returns, and log output. */
#ifndef LM_BASE_ERROR_H
#define LM_BASE_ERROR_H

#include "lm.h"

#if defined(__GNUC__)
#define LM_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define LM_PRINTF(fmt_index, first_arg)
/* The name ("LM_ERR_NOMEM") and the description ("out of memory") of a status; static strings. */
const char *lmi_status_name(lm_status status);
const char *lmi_status_text(lm_status status);
/* The calling thread's last error text (never NULL) and its reset. */
const char *lmi_last_error(void);
void lmi_clear_error(void);
/* Installs the process-wide log callback (lm_set_log_callback). */
void lmi_set_log_callback(lm_log_fn fn, lm_log_level max_level, void *user_data);

#endif

/* Records a printf-style sentence as the calling thread's last error and returns `status`, so
 * that failures read `return lmi_error(LM_ERR_IO, "cannot open %s: %s", path, strerror(e));`. */
lm_status lmi_error(lm_status status, const char *fmt, ...) LM_PRINTF(2, 3);

/* Prepends "context: " to the current last-error text (e.g. a file name) and returns `status`. */
lm_status lmi_error_prefix(lm_status status, const char *fmt, ...) LM_PRINTF(2, 3);

/* Delivers a message to the log callback when one is installed and `level` is enabled. */
void lmi_log(lm_log_level level, const char *fmt, ...) LM_PRINTF(2, 3);

/* Maps an errno value to the closest status (ENOENT -> NOT_FOUND, EACCES -> PERMISSION, ...). */
lm_status lmi_status_from_errno(int err);

/* The name ("LM_ERR_NOMEM") and the description ("out of memory") of a status; static strings. */
const char *lmi_status_name(lm_status status);
const char *lmi_status_text(lm_status status);
/* The calling thread's last error text (never NULL) and its reset. */
const char *lmi_last_error(void);
void lmi_clear_error(void);
/* Installs the process-wide log callback (lm_set_log_callback). */
void lmi_set_log_callback(lm_log_fn fn, lm_log_level max_level, void *user_data);

#endif
