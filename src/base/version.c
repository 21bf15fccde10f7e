/* Run-time version of the linked library. */
#include "lm.h"

#define LM_STRINGIFY_(x) #x
#define LM_STRINGIFY(x) LM_STRINGIFY_(x)

uint32_t lm_version(void) { return LM_VERSION_NUMBER; }

const char *lm_version_string(void) {
    return LM_STRINGIFY(LM_VERSION_MAJOR) "." LM_STRINGIFY(LM_VERSION_MINOR) "." LM_STRINGIFY(
        LM_VERSION_PATCH);
}
