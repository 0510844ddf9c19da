/* The shim over libgpiod API v2 (libgpiod 2.x, kernel uAPI v2): one kernel request for all lines,
 * atomic multi-line set/get, per-line settings, sequence numbers, selectable event clock. */
#include "itp_internal.h"

#if ITP_GPIOD_API == 2

#include <stdlib.h>
#include <string.h>

#define DEFAULT_EVENT_BUFFER 64

struct itp_chip {
    struct gpiod_chip *chip;
};

struct itp_request {
    struct gpiod_line_request *req;
    struct gpiod_edge_event_buffer *buf;
    size_t capacity;
};

itp_chip *itp_chip_open(const char *path, itp_status *st)
{
    errno = 0;
    struct gpiod_chip *g = gpiod_chip_open(path);
    if (!g) {
        itp_fail(st, "gpiod_chip_open", NULL, -1);
        return NULL;
    }
    itp_chip *c = calloc(1, sizeof *c);
    if (!c) {
        gpiod_chip_close(g);
        itp_fail_errno(st, ENOMEM, "calloc", NULL, -1);
        return NULL;
    }
    c->chip = g;
    return c;
}

/* v2 requests do not depend on the chip object, so closing it frees it at once. */
void itp_chip_close(itp_chip *chip)
{
    if (!chip)
        return;
    gpiod_chip_close(chip->chip);
    free(chip);
}

int itp_chip_get_info(itp_chip *chip, itp_chip_info *out, itp_status *st)
{
    struct gpiod_chip_info *info = gpiod_chip_get_info(chip->chip);
    if (!info)
        return itp_fail(st, "gpiod_chip_get_info", NULL, -1);
    itp_copy_name(out->name, gpiod_chip_info_get_name(info));
    itp_copy_name(out->label, gpiod_chip_info_get_label(info));
    out->num_lines = (uint32_t)gpiod_chip_info_get_num_lines(info);
    gpiod_chip_info_free(info);
    return 0;
}

int64_t itp_chip_find_line(itp_chip *chip, const char *name, itp_status *st)
{
    errno = 0;
    int off = gpiod_chip_get_line_offset_from_name(chip->chip, name);
    if (off < 0) {
        if (errno == 0)
            errno = ENOENT;
        return itp_fail(st, "gpiod_chip_get_line_offset_from_name", NULL, -1);
    }
    return off;
}

int itp_chip_get_line_info(itp_chip *chip, uint32_t offset, itp_line_info *out, itp_status *st)
{
    struct gpiod_line_info *info = gpiod_chip_get_line_info(chip->chip, offset);
    if (!info)
        return itp_fail(st, "gpiod_chip_get_line_info", NULL, -1);
    memset(out, 0, sizeof *out);
    out->offset = offset;
    itp_copy_name(out->name, gpiod_line_info_get_name(info));
    itp_copy_name(out->consumer, gpiod_line_info_get_consumer(info));
    out->used = gpiod_line_info_is_used(info);
    out->active_low = gpiod_line_info_is_active_low(info);
    switch (gpiod_line_info_get_direction(info)) {
    case GPIOD_LINE_DIRECTION_INPUT: out->direction = ITP_DIRECTION_INPUT; break;
    case GPIOD_LINE_DIRECTION_OUTPUT: out->direction = ITP_DIRECTION_OUTPUT; break;
    default: out->direction = ITP_DIRECTION_UNKNOWN; break;
    }
    switch (gpiod_line_info_get_bias(info)) {
    case GPIOD_LINE_BIAS_DISABLED: out->bias = ITP_BIAS_DISABLED; break;
    case GPIOD_LINE_BIAS_PULL_UP: out->bias = ITP_BIAS_PULL_UP; break;
    case GPIOD_LINE_BIAS_PULL_DOWN: out->bias = ITP_BIAS_PULL_DOWN; break;
    default: out->bias = ITP_BIAS_UNKNOWN; break;
    }
    switch (gpiod_line_info_get_drive(info)) {
    case GPIOD_LINE_DRIVE_OPEN_DRAIN: out->drive = ITP_DRIVE_OPEN_DRAIN; break;
    case GPIOD_LINE_DRIVE_OPEN_SOURCE: out->drive = ITP_DRIVE_OPEN_SOURCE; break;
    default: out->drive = ITP_DRIVE_PUSH_PULL; break;
    }
    switch (gpiod_line_info_get_edge_detection(info)) {
    case GPIOD_LINE_EDGE_RISING: out->edge = ITP_EDGE_RISING; break;
    case GPIOD_LINE_EDGE_FALLING: out->edge = ITP_EDGE_FALLING; break;
    case GPIOD_LINE_EDGE_BOTH: out->edge = ITP_EDGE_BOTH; break;
    default: out->edge = ITP_EDGE_NONE; break;
    }
    out->debounce_us = (uint32_t)gpiod_line_info_get_debounce_period_us(info);
    switch (gpiod_line_info_get_event_clock(info)) {
    case GPIOD_LINE_CLOCK_REALTIME: out->event_clock = ITP_CLOCK_REALTIME; break;
    case GPIOD_LINE_CLOCK_HTE: out->event_clock = ITP_CLOCK_HTE; break;
    default: out->event_clock = ITP_CLOCK_MONOTONIC; break;
    }
    gpiod_line_info_free(info);
    return 0;
}

static int apply_settings(struct gpiod_line_settings *s, const itp_line_config *c, size_t i,
                          itp_status *st)
{
    static const enum gpiod_line_bias bias[] = {GPIOD_LINE_BIAS_AS_IS, GPIOD_LINE_BIAS_DISABLED,
                                                GPIOD_LINE_BIAS_PULL_UP, GPIOD_LINE_BIAS_PULL_DOWN};
    static const enum gpiod_line_drive drive[] = {
        GPIOD_LINE_DRIVE_PUSH_PULL, GPIOD_LINE_DRIVE_OPEN_DRAIN, GPIOD_LINE_DRIVE_OPEN_SOURCE};
    static const enum gpiod_line_edge edge[] = {GPIOD_LINE_EDGE_NONE, GPIOD_LINE_EDGE_RISING,
                                                GPIOD_LINE_EDGE_FALLING, GPIOD_LINE_EDGE_BOTH};
    static const enum gpiod_line_clock clock[] = {GPIOD_LINE_CLOCK_MONOTONIC, GPIOD_LINE_CLOCK_REALTIME,
                                                  GPIOD_LINE_CLOCK_HTE};
    if (c->bias < 0 || c->bias > 3 || c->drive < 0 || c->drive > 2 || c->edge < 0 || c->edge > 3
        || c->event_clock < 0 || c->event_clock > 2)
        return itp_fail_errno(st, EINVAL, "itp_request_lines", "setting out of range", (int64_t)i);
    bool out = c->direction == ITP_DIRECTION_OUTPUT;
    if (out && c->edge != ITP_EDGE_NONE)
        return itp_fail_errno(st, EINVAL, "gpiod_line_settings_set_edge_detection",
                              "edge detection on an output", (int64_t)i);
    gpiod_line_settings_set_active_low(s, c->active_low);
    if (gpiod_line_settings_set_direction(s, out ? GPIOD_LINE_DIRECTION_OUTPUT
                                                 : GPIOD_LINE_DIRECTION_INPUT) < 0)
        return itp_fail(st, "gpiod_line_settings_set_direction", NULL, (int64_t)i);
    if (gpiod_line_settings_set_bias(s, bias[c->bias]) < 0)
        return itp_fail(st, "gpiod_line_settings_set_bias", NULL, (int64_t)i);
    if (out) {
        if (gpiod_line_settings_set_drive(s, drive[c->drive]) < 0)
            return itp_fail(st, "gpiod_line_settings_set_drive", NULL, (int64_t)i);
        if (gpiod_line_settings_set_output_value(s, c->initial ? GPIOD_LINE_VALUE_ACTIVE
                                                               : GPIOD_LINE_VALUE_INACTIVE) < 0)
            return itp_fail(st, "gpiod_line_settings_set_output_value", NULL, (int64_t)i);
    } else {
        if (gpiod_line_settings_set_edge_detection(s, edge[c->edge]) < 0)
            return itp_fail(st, "gpiod_line_settings_set_edge_detection", NULL, (int64_t)i);
        gpiod_line_settings_set_debounce_period_us(s, c->debounce_us);
        if (gpiod_line_settings_set_event_clock(s, clock[c->event_clock]) < 0)
            return itp_fail(st, "gpiod_line_settings_set_event_clock", NULL, (int64_t)i);
    }
    return 0;
}

itp_request *itp_request_lines(itp_chip *chip, const char *consumer, const itp_line_config *cfg,
                               size_t n, size_t event_buffer_size, itp_status *st)
{
    if (n == 0) {
        itp_fail_errno(st, EINVAL, "itp_request_lines", "no lines given", -1);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (cfg[j].offset == cfg[i].offset) {
                itp_fail_errno(st, EINVAL, "itp_request_lines", "line listed twice", (int64_t)i);
                return NULL;
            }
    size_t capacity = event_buffer_size ? event_buffer_size : DEFAULT_EVENT_BUFFER;
    struct gpiod_line_settings *s = gpiod_line_settings_new();
    struct gpiod_line_config *lc = gpiod_line_config_new();
    struct gpiod_request_config *rc = gpiod_request_config_new();
    itp_request *r = calloc(1, sizeof *r);
    if (!s || !lc || !rc || !r) {
        itp_fail_errno(st, ENOMEM, "gpiod_line_config_new", NULL, -1);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        gpiod_line_settings_reset(s);
        if (apply_settings(s, &cfg[i], i, st) < 0)
            goto fail;
        unsigned int off = cfg[i].offset;
        if (gpiod_line_config_add_line_settings(lc, &off, 1, s) < 0) {
            itp_fail(st, "gpiod_line_config_add_line_settings", NULL, (int64_t)i);
            goto fail;
        }
    }
    gpiod_request_config_set_consumer(rc, consumer);
    gpiod_request_config_set_event_buffer_size(rc, capacity);
    errno = 0;
    r->req = gpiod_chip_request_lines(chip->chip, rc, lc);
    if (!r->req) {
        itp_fail(st, "gpiod_chip_request_lines", NULL, -1);
        goto fail;
    }
    r->buf = gpiod_edge_event_buffer_new(capacity);
    if (!r->buf) {
        itp_fail(st, "gpiod_edge_event_buffer_new", NULL, -1);
        goto fail;
    }
    r->capacity = capacity;
    gpiod_line_settings_free(s);
    gpiod_line_config_free(lc);
    gpiod_request_config_free(rc);
    return r;
fail: {
    int saved = errno;
    if (r && r->req)
        gpiod_line_request_release(r->req);
    free(r);
    gpiod_line_settings_free(s);
    gpiod_line_config_free(lc);
    gpiod_request_config_free(rc);
    errno = saved;
    return NULL;
}
}

void itp_request_release(itp_request *req)
{
    if (!req)
        return;
    gpiod_edge_event_buffer_free(req->buf);
    gpiod_line_request_release(req->req);
    free(req);
}

int itp_request_set_values(itp_request *req, size_t n, const uint32_t *offsets, const int *values,
                           itp_status *st)
{
    enum gpiod_line_value vals[n + 1];
    unsigned int offs[n + 1];
    for (size_t k = 0; k < n; k++) {
        vals[k] = values[k] ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE;
        offs[k] = offsets[k];
    }
    if (gpiod_line_request_set_values_subset(req->req, n, offs, vals) < 0)
        return itp_fail(st, "gpiod_line_request_set_values_subset", NULL, -1);
    return 0;
}

int itp_request_get_values(itp_request *req, size_t n, const uint32_t *offsets, int *values,
                           itp_status *st)
{
    enum gpiod_line_value vals[n + 1];
    unsigned int offs[n + 1];
    for (size_t k = 0; k < n; k++)
        offs[k] = offsets[k];
    if (gpiod_line_request_get_values_subset(req->req, n, offs, vals) < 0)
        return itp_fail(st, "gpiod_line_request_get_values_subset", NULL, -1);
    for (size_t k = 0; k < n; k++)
        values[k] = vals[k] == GPIOD_LINE_VALUE_ACTIVE;
    return 0;
}

int itp_request_wait_edge_events(itp_request *req, int64_t timeout_ns, itp_status *st)
{
    int64_t deadline = timeout_ns < 0 ? -1 : itp_now_ns() + timeout_ns;
    for (;;) {
        int64_t left = -1;
        if (deadline >= 0) {
            left = deadline - itp_now_ns();
            if (left < 0)
                left = 0;
        }
        int rv = gpiod_line_request_wait_edge_events(req->req, left);
        if (rv >= 0)
            return rv;
        if (errno != EINTR)
            return itp_fail(st, "gpiod_line_request_wait_edge_events", NULL, -1);
    }
}

int itp_request_read_edge_events(itp_request *req, itp_edge_event *out, size_t max, itp_status *st)
{
    if (max == 0)
        return 0;
    size_t want = max < req->capacity ? max : req->capacity;
    int got;
    do
        got = gpiod_line_request_read_edge_events(req->req, req->buf, want);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return itp_fail(st, "gpiod_line_request_read_edge_events", NULL, -1);
    for (int i = 0; i < got; i++) {
        struct gpiod_edge_event *e = gpiod_edge_event_buffer_get_event(req->buf, (unsigned long)i);
        out[i].offset = gpiod_edge_event_get_line_offset(e);
        out[i].type = gpiod_edge_event_get_event_type(e) == GPIOD_EDGE_EVENT_RISING_EDGE
                          ? ITP_EVENT_RISING
                          : ITP_EVENT_FALLING;
        out[i].timestamp_ns = gpiod_edge_event_get_timestamp_ns(e);
        out[i].global_seqno = gpiod_edge_event_get_global_seqno(e);
        out[i].line_seqno = gpiod_edge_event_get_line_seqno(e);
    }
    return got;
}

int itp_request_fd(itp_request *req, itp_status *st)
{
    int fd = gpiod_line_request_get_fd(req->req);
    if (fd < 0)
        return itp_fail(st, "gpiod_line_request_get_fd", NULL, -1);
    return fd;
}

#endif
