/* Internal: setting the thread-local error text that lm_last_error() returns, and log output. */
#ifndef LM_BASE_ERROR_H
#define LM_BASE_ERROR_H

#include "lm.h"

#if defined(__GNUC__)
#define LM_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define LM_PRINTF(fmt_index, first_arg)
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

#endif
