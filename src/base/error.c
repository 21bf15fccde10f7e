/* Status names, the thread-local last-error text, errno mapping and the log callback. */
#include "error.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lm.h"

#define LM_ERROR_CAPACITY 1024

static _Thread_local char last_error[LM_ERROR_CAPACITY];

/* The log callback, its level and user data, changed together under log_lock (any thread may
 * install one while others log); a message is delivered outside the lock. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static lm_log_fn log_fn;
static lm_log_level log_max_level = LM_LOG_ERROR;
static void *log_user_data;

const char *lmi_status_name(lm_status status) {
    switch (status) {
#define LM_STATUS_NAME_CASE(name, value, text) \
    case name:                                 \
        return #name;
        LM_STATUS_MAP(LM_STATUS_NAME_CASE)
#undef LM_STATUS_NAME_CASE
    }
    return "LM_ERR_UNKNOWN";
}

const char *lmi_status_text(lm_status status) {
    switch (status) {
#define LM_STATUS_TEXT_CASE(name, value, text) \
    case name:                                 \
        return text;
        LM_STATUS_MAP(LM_STATUS_TEXT_CASE)
#undef LM_STATUS_TEXT_CASE
    }
    return "unknown status";
}

const char *lmi_last_error(void) { return last_error; }

void lmi_clear_error(void) { last_error[0] = '\0'; }

lm_status lmi_error(lm_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    lmi_log(LM_LOG_DEBUG, "%s: %s", lmi_status_name(status), last_error);
    return status;
}

lm_status lmi_error_prefix(lm_status status, const char *fmt, ...) {
    char prefix[LM_ERROR_CAPACITY];
    char old[LM_ERROR_CAPACITY];
    va_list ap;
    size_t n;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    n = strlen(prefix);
    if (n > sizeof last_error - 3) {
        n = sizeof last_error - 3;
    }
    memcpy(last_error, prefix, n);
    memcpy(last_error + n, ": ", 2);
    n += 2;
    memcpy(last_error + n, old, sizeof last_error - n - 1);
    last_error[sizeof last_error - 1] = '\0';
    return status;
}

lm_status lmi_status_from_errno(int err) {
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        return LM_ERR_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS:
        return LM_ERR_PERMISSION;
    case ENOMEM:
        return LM_ERR_NOMEM;
    case EINVAL:
    case EISDIR:
    case ENAMETOOLONG:
        return LM_ERR_INVALID_ARGUMENT;
    default:
        return LM_ERR_IO;
    }
}

void lmi_set_log_callback(lm_log_fn fn, lm_log_level max_level, void *user_data) {
    pthread_mutex_lock(&log_lock);
    log_fn = fn;
    log_max_level = max_level;
    log_user_data = user_data;
    pthread_mutex_unlock(&log_lock);
}

void lmi_log(lm_log_level level, const char *fmt, ...) {
    char message[LM_ERROR_CAPACITY];
    va_list ap;
    lm_log_fn fn;
    void *user;
    pthread_mutex_lock(&log_lock);
    fn = level <= log_max_level ? log_fn : NULL;
    user = log_user_data;
    pthread_mutex_unlock(&log_lock);
    if (fn == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    fn(level, message, user);
}
