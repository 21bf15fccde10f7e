/* Internal: a per-op profile of the forward and backward passes (issue 10): wall time, calls and
 * floating-point operations per op kind and per layer, gathered process-wide while profiling is
 * on. Off by default, at the cost of one relaxed atomic load per op; on when the environment has
 * LM_PROFILE=1 at the first check, or after lmi_prof_enable(1) (bench/profile.c). The library
 * never prints it: a benchmark reads the cells (lmi_prof_get) and prints the table. Times are
 * taken on the calling thread around whole ops (each op runs its own OpenMP team inside). */
#ifndef LM_BASE_PROFILE_H
#define LM_BASE_PROFILE_H

#include <stddef.h>
#include <stdint.h>

/* Op kinds of the profile. */
typedef enum lmi_prof_kind {
    LMI_PROF_EMBED = 0,  /* embedding lookup + layer norm (+ gathering the real tokens) */
    LMI_PROF_QKV,        /* Q | K | V product */
    LMI_PROF_ATTENTION,  /* scores, softmax, weighted values */
    LMI_PROF_ATT_OUT,    /* attention.output.dense (+ residual) */
    LMI_PROF_LAYERNORM,  /* the layer's two layer norms (with their residual adds) */
    LMI_PROF_FFN_IN,     /* intermediate.dense (+ fused activation) */
    LMI_PROF_ACT,        /* activation on its own (training) */
    LMI_PROF_FFN_OUT,    /* output.dense (+ residual) */
    LMI_PROF_DROPOUT,    /* dropout (training) */
    LMI_PROF_OUTPUT,     /* writing the hidden state back to [B, T, C] */
    LMI_PROF_HEAD,       /* pooler, classifier, MLM head */
    LMI_PROF_BACKWARD,   /* the backward pass (training), all of it */
    LMI_PROF_PACK,       /* packing weights */
    LMI_PROF_KINDS
} lmi_prof_kind;

#define LMI_PROF_LAYERS 64 /* layers profiled one by one; deeper ones share the last row */

typedef struct lmi_prof_cell {
    double seconds;
    double flops;
    uint64_t calls;
} lmi_prof_cell;

/* 1 when profiling is on. */
int lmi_prof_on(void);
void lmi_prof_enable(int on);
void lmi_prof_reset(void);
/* A start time (lmi_time_ns) when profiling is on, else 0. */
uint64_t lmi_prof_start(void);
/* Adds the time since t0 (a value of lmi_prof_start, 0: nothing) and `flops` to the cell of
 * (kind, layer); layer -1 is the model-level row. */
void lmi_prof_stop(lmi_prof_kind kind, long layer, uint64_t t0, double flops);
/* The sums so far of one layer (-1: of every layer and the model-level row together). */
void lmi_prof_get(lmi_prof_kind kind, long layer, lmi_prof_cell *out);
const char *lmi_prof_kind_name(lmi_prof_kind kind);

/* Times one statement as (kind, layer) with its floating-point operation count. */
#define LMI_PROF(kind, layer, flops, stmt)                                                        \
    do {                                                                                          \
        const uint64_t lmi_prof_t0_ = lmi_prof_start();                                           \
        stmt;                                                                                     \
        if (lmi_prof_t0_ != 0) {                                                                  \
            lmi_prof_stop((kind), (long)(layer), lmi_prof_t0_, (double)(flops));                  \
        }                                                                                         \
    } while (0)

#endif
