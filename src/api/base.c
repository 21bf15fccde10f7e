/* Public API (lm.h): version, status names, last error, log callback, allocator hooks. Thin
 * wrappers over src/base/. */
#include "lm.h"

#include "base/alloc.h"
#include "base/error.h"

uint32_t lm_version(void) { return LM_VERSION_NUMBER; }

const char *lm_version_string(void) { return LM_VERSION_STRING; }

const char *lm_status_string(lm_status status) { return lmi_status_name(status); }

const char *lm_status_description(lm_status status) { return lmi_status_text(status); }

const char *lm_last_error(void) { return lmi_last_error(); }

void lm_clear_error(void) { lmi_clear_error(); }

void lm_set_log_callback(lm_log_fn fn, lm_log_level max_level, void *user_data) {
    lmi_set_log_callback(fn, max_level, user_data);
}

lm_status lm_set_allocator(const lm_allocator *allocator) { return lmi_set_allocator(allocator); }

void lm_free(void *ptr) { lmi_free(ptr); }
