/* The per-op profile (see profile.h): one table of cells behind a mutex, switched on by
 * LM_PROFILE=1 or lmi_prof_enable. */
#include "base/profile.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/timer.h"

static atomic_int prof_state = -1; /* -1: environment not read yet */
static pthread_mutex_t prof_lock = PTHREAD_MUTEX_INITIALIZER;
static lmi_prof_cell cells[LMI_PROF_KINDS][LMI_PROF_LAYERS + 1]; /* [kind][layer + 1] */

static const char *const kind_names[LMI_PROF_KINDS] = {
    "embeddings", "qkv", "attention", "att_out", "layernorm", "ffn_in", "activation",
    "ffn_out",    "dropout", "output", "head", "backward", "pack"};

int lmi_prof_on(void) {
    int s = atomic_load_explicit(&prof_state, memory_order_relaxed);
    if (s < 0) {
        const char *e = getenv("LM_PROFILE");
        s = e != NULL && strcmp(e, "1") == 0;
        atomic_store_explicit(&prof_state, s, memory_order_relaxed);
    }
    return s;
}

void lmi_prof_enable(int on) {
    atomic_store_explicit(&prof_state, on != 0, memory_order_relaxed);
}

void lmi_prof_reset(void) {
    pthread_mutex_lock(&prof_lock);
    memset(cells, 0, sizeof cells);
    pthread_mutex_unlock(&prof_lock);
}

uint64_t lmi_prof_start(void) {
    return lmi_prof_on() ? lmi_time_ns() : 0;
}

void lmi_prof_stop(lmi_prof_kind kind, long layer, uint64_t t0, double flops) {
    const double s = lmi_time_since(t0);
    size_t row = layer < 0 ? 0 : layer >= LMI_PROF_LAYERS ? LMI_PROF_LAYERS : (size_t)layer + 1;
    if (t0 == 0 || kind < 0 || kind >= LMI_PROF_KINDS) {
        return;
    }
    pthread_mutex_lock(&prof_lock);
    cells[kind][row].seconds += s;
    cells[kind][row].flops += flops;
    cells[kind][row].calls++;
    pthread_mutex_unlock(&prof_lock);
}

void lmi_prof_get(lmi_prof_kind kind, long layer, lmi_prof_cell *out) {
    const size_t only = layer >= LMI_PROF_LAYERS ? LMI_PROF_LAYERS : (size_t)layer + 1;
    size_t r;
    memset(out, 0, sizeof *out);
    if (kind < 0 || kind >= LMI_PROF_KINDS) {
        return;
    }
    pthread_mutex_lock(&prof_lock);
    for (r = 0; r <= LMI_PROF_LAYERS; r++) {
        if (layer < 0 || r == only) {
            out->seconds += cells[kind][r].seconds;
            out->flops += cells[kind][r].flops;
            out->calls += cells[kind][r].calls;
        }
    }
    pthread_mutex_unlock(&prof_lock);
}

const char *lmi_prof_kind_name(lmi_prof_kind kind) {
    return kind >= 0 && kind < LMI_PROF_KINDS ? kind_names[kind] : "?";
}
