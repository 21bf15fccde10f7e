/* The training plot of lm train --plot (see plot.h): two panels sharing the step axis, the
 * training loss above and the dev metric below, with ticks at round values. Plain SVG 1.1
 * (width, height, viewBox, xmlns), so that any browser shows it. */
#define _POSIX_C_SOURCE 200809L
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

typedef struct series {
    double *x, *y;
    size_t n, cap;
} series;

static int push(series *s, double x, double y) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        double *nx = realloc(s->x, cap * sizeof *nx), *ny;
        if (nx == NULL) {
            return -1;
        }
        s->x = nx;
        ny = realloc(s->y, cap * sizeof *ny);
        if (ny == NULL) {
            return -1;
        }
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
    return 0;
}

/* The index of column `name` in a header line (commas, no quoting), or -1. */
static int column(const char *header, const char *name) {
    int i = 0;
    size_t n = strlen(name);
    const char *p = header;
    for (;;) {
        size_t w = strcspn(p, ",\n\r");
        if (w == n && strncmp(p, name, n) == 0) {
            return i;
        }
        if (p[w] != ',') {
            return -1;
        }
        p += w + 1;
        i++;
    }
}

/* Field `k` of a line as a number; 0 when empty or absent. */
static int field(const char *line, int k, double *v) {
    const char *p = line;
    char *end;
    for (; k > 0; k--) {
        p = strchr(p, ',');
        if (p == NULL) {
            return 0;
        }
        p++;
    }
    if (*p == ',' || *p == '\n' || *p == '\r' || *p == '\0') {
        return 0;
    }
    *v = strtod(p, &end);
    return end != p && isfinite(*v);
}

/* A round tick step giving about 5 ticks over [lo, hi]. */
static double tick_step(double lo, double hi) {
    double span = hi - lo, raw, mag, f;
    if (!(span > 0)) {
        return 1.0;
    }
    raw = span / 5.0;
    mag = pow(10.0, floor(log10(raw)));
    f = raw / mag;
    return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

static void xml_text(FILE *f, const char *s) {
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f); break;
        }
    }
}

enum { WIDTH = 800, LEFT = 80, RIGHT = 30, PANEL_H = 210 };

/* One panel at vertical offset top: frame, ticks, the series as a line (and dots). */
static void panel(FILE *f, int top, const series *s, double x_max, const char *label,
                  const char *color, int dots) {
    const double w = WIDTH - LEFT - RIGHT, h = PANEL_H;
    double lo = INFINITY, hi = -INFINITY, step, t, xs;
    size_t i;
    for (i = 0; i < s->n; i++) {
        lo = s->y[i] < lo ? s->y[i] : lo;
        hi = s->y[i] > hi ? s->y[i] : hi;
    }
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
               "stroke=\"#888\"/>\n", LEFT, top, w, h);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"14\" fill=\"#222\">", LEFT, top - 8);
    xml_text(f, label);
    fputs("</text>\n", f);
    if (s->n == 0) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"13\" fill=\"#888\" "
                   "text-anchor=\"middle\">no values</text>\n", LEFT + w / 2, top + h / 2);
        return;
    }
    if (hi - lo < 1e-12 * (fabs(hi) + 1.0)) { /* one value: a band around it */
        lo -= 0.1 * fabs(lo) + 1e-3;
        hi += 0.1 * fabs(hi) + 1e-3;
    }
    step = tick_step(lo, hi);
    lo = floor(lo / step) * step;
    hi = ceil(hi / step) * step;
    for (t = lo; t <= hi + step / 2; t += step) {
        double y = top + h - (t - lo) / (hi - lo) * h;
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                LEFT, y, LEFT + w, y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#444\" "
                   "text-anchor=\"end\">%g</text>\n", LEFT - 6, y + 4, fabs(t) < step / 1e6 ? 0.0 : t);
    }
    xs = tick_step(0, x_max);
    for (t = 0; t <= x_max + xs / 2; t += xs) {
        double x = LEFT + t / x_max * w;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#eee\"/>\n", x,
                top, x, top + h);
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" fill=\"#444\" "
                   "text-anchor=\"middle\">%g</text>\n", x, top + h + 15, t);
    }
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
    for (i = 0; i < s->n; i++) {
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", LEFT + s->x[i] / x_max * w,
                top + h - (s->y[i] - lo) / (hi - lo) * h);
    }
    fputs("\"/>\n", f);
    for (i = 0; dots && i < s->n; i++) {
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
                LEFT + s->x[i] / x_max * w, top + h - (s->y[i] - lo) / (hi - lo) * h, color);
    }
}

int tool_plot_svg(const char *csv_path, const char *svg_path, const char *metric,
                  const char *title) {
    FILE *in = fopen(csv_path, "r");
    char *line = NULL, col[64], label[128];
    size_t cap = 0;
    series loss = {0}, dev = {0};
    int c_step, c_loss, c_dev, rc = 1;
    double x_max = 1;
    tool_output out;
    if (in == NULL) {
        fprintf(stderr, "lm train: --plot: cannot read %s\n", csv_path);
        return 1;
    }
    if (getline(&line, &cap, in) < 0) {
        fprintf(stderr, "lm train: --plot: %s is empty\n", csv_path);
        goto done;
    }
    snprintf(col, sizeof col, "eval_%s", metric);
    c_step = column(line, "step");
    c_loss = column(line, "loss");
    c_dev = column(line, col);
    if (c_step < 0 || c_loss < 0) {
        fprintf(stderr, "lm train: --plot: %s has no step or loss column\n", csv_path);
        goto done;
    }
    while (getline(&line, &cap, in) >= 0) {
        double x, y;
        if (!field(line, c_step, &x)) {
            continue;
        }
        x_max = x > x_max ? x : x_max;
        if (field(line, c_loss, &y) && push(&loss, x, y) != 0) {
            goto oom;
        }
        if (c_dev >= 0 && field(line, c_dev, &y) && push(&dev, x, y) != 0) {
            goto oom;
        }
    }
    if (tool_output_open(&out, "train", svg_path) != 0) {
        goto done;
    }
    fprintf(out.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
                   "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n",
            WIDTH, 2 * PANEL_H + 150, WIDTH, 2 * PANEL_H + 150);
    fprintf(out.f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                   "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\" "
                   "fill=\"#111\">", LEFT);
    xml_text(out.f, title);
    fputs("</text>\n", out.f);
    panel(out.f, 58, &loss, x_max, "training loss", "#1f77b4", 0);
    snprintf(label, sizeof label, "dev %s", metric);
    panel(out.f, 58 + PANEL_H + 48, &dev, x_max, label, "#d62728", 1);
    fprintf(out.f, "<text x=\"%.0f\" y=\"%d\" font-size=\"12\" fill=\"#222\" "
                   "text-anchor=\"middle\">step</text>\n</svg>\n",
            LEFT + (WIDTH - LEFT - RIGHT) / 2.0, 2 * PANEL_H + 142);
    rc = tool_output_close(&out, 1);
    goto done;
oom:
    fprintf(stderr, "lm train: --plot: out of memory\n");
done:
    free(line);
    free(loss.x);
    free(loss.y);
    free(dev.x);
    free(dev.y);
    fclose(in);
    return rc;
}
