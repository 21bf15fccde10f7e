/* The lm tool's training plot: an SVG of the training loss and a dev metric against the steps,
 * read from a run's metrics.csv. Uses only the C library. */
#ifndef LM_TOOL_PLOT_H
#define LM_TOOL_PLOT_H

/* Reads csv_path (metrics.csv: a header, then rows; columns "step", "loss" and "eval_<metric>")
 * and writes svg_path (whole or not at all). Returns 0, or 1 after a message on stderr. */
int tool_plot_svg(const char *csv_path, const char *svg_path, const char *metric,
                  const char *title);

#endif
