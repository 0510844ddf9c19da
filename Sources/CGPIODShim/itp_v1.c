/* The shim over libgpiod API v1 (libgpiod 1.x, kernel uAPI v1).
 *
 * v1 has one kernel request per line configuration and line objects owned by the chip, so each line is
 * requested on its own (set_values writes lines one after another, in the order given), the chip is
 * kept alive by its requests, and an epoll fd gathers the lines' event fds into one pollable fd. */
#include "itp_internal.h"

#if ITP_GPIOD_API == 1

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct itp_chip {
    struct gpiod_chip *chip;
    int refs; /* the handle itself plus one per live request */
};

struct itp_request {
    itp_chip *chip;
    size_t n;
    struct gpiod_line **lines;
    uint32_t *offsets;
    bool *edges; /* line has edge detection, i.e. an event fd */
    int epfd;
};

static void chip_unref(itp_chip *c)
{
    if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        gpiod_chip_close(c->chip);
        free(c);
    }
}

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
    c->refs = 1;
    return c;
}

void itp_chip_close(itp_chip *chip)
{
    if (chip)
        chip_unref(chip);
}

int itp_chip_get_info(itp_chip *chip, itp_chip_info *out, itp_status *st)
{
    (void)st;
    itp_copy_name(out->name, gpiod_chip_name(chip->chip));
    itp_copy_name(out->label, gpiod_chip_label(chip->chip));
    out->num_lines = gpiod_chip_num_lines(chip->chip);
    return 0;
}

int64_t itp_chip_find_line(itp_chip *chip, const char *name, itp_status *st)
{
    errno = 0;
    struct gpiod_line *line = gpiod_chip_find_line(chip->chip, name);
    if (!line) {
        if (errno == 0)
            errno = ENOENT;
        return itp_fail(st, "gpiod_chip_find_line", NULL, -1);
    }
    return gpiod_line_offset(line);
}

int itp_chip_get_line_info(itp_chip *chip, uint32_t offset, itp_line_info *out, itp_status *st)
{
    errno = 0;
    struct gpiod_line *line = gpiod_chip_get_line(chip->chip, offset);
    if (!line)
        return itp_fail(st, "gpiod_chip_get_line", NULL, -1);
    if (gpiod_line_update(line) < 0)
        return itp_fail(st, "gpiod_line_update", NULL, -1);
    memset(out, 0, sizeof *out);
    out->offset = offset;
    itp_copy_name(out->name, gpiod_line_name(line));
    itp_copy_name(out->consumer, gpiod_line_consumer(line));
    out->used = gpiod_line_is_used(line);
    out->active_low = gpiod_line_active_state(line) == GPIOD_LINE_ACTIVE_STATE_LOW;
    out->direction = gpiod_line_direction(line) == GPIOD_LINE_DIRECTION_OUTPUT ? ITP_DIRECTION_OUTPUT
                                                                               : ITP_DIRECTION_INPUT;
    switch (gpiod_line_bias(line)) {
    case GPIOD_LINE_BIAS_DISABLE: out->bias = ITP_BIAS_DISABLED; break;
    case GPIOD_LINE_BIAS_PULL_UP: out->bias = ITP_BIAS_PULL_UP; break;
    case GPIOD_LINE_BIAS_PULL_DOWN: out->bias = ITP_BIAS_PULL_DOWN; break;
    default: out->bias = ITP_BIAS_UNKNOWN; break;
    }
    out->drive = gpiod_line_is_open_drain(line)    ? ITP_DRIVE_OPEN_DRAIN
                 : gpiod_line_is_open_source(line) ? ITP_DRIVE_OPEN_SOURCE
                                                   : ITP_DRIVE_PUSH_PULL;
    out->edge = ITP_EDGE_UNKNOWN; /* uAPI v1 line info does not report edge detection */
    out->debounce_us = 0;
    out->event_clock = ITP_CLOCK_MONOTONIC;
    return 0;
}

static void request_free(itp_request *r, size_t requested)
{
    int saved = errno;
    for (size_t i = 0; i < requested; i++)
        gpiod_line_release(r->lines[i]);
    if (r->epfd >= 0)
        close(r->epfd);
    if (r->chip)
        chip_unref(r->chip);
    free(r->lines);
    free(r->offsets);
    free(r->edges);
    free(r);
    errno = saved;
}

/* Checks what v1 cannot do before anything is requested. */
static int check_configs(const itp_line_config *cfg, size_t n, itp_status *st)
{
    for (size_t i = 0; i < n; i++) {
        if (cfg[i].debounce_us != 0)
            return itp_fail_errno(st, EOPNOTSUPP, "gpiod_line_request",
                                  "debounce period", (int64_t)i);
        if (cfg[i].edge != ITP_EDGE_NONE && cfg[i].event_clock != ITP_CLOCK_MONOTONIC)
            return itp_fail_errno(st, EOPNOTSUPP, "gpiod_line_request",
                                  "an event clock other than monotonic",
                                  (int64_t)i);
        if (cfg[i].direction == ITP_DIRECTION_OUTPUT && cfg[i].edge != ITP_EDGE_NONE)
            return itp_fail_errno(st, EINVAL, "gpiod_line_request", "edge detection on an output",
                                  (int64_t)i);
        for (size_t j = 0; j < i; j++)
            if (cfg[j].offset == cfg[i].offset)
                return itp_fail_errno(st, EINVAL, "itp_request_lines", "line listed twice",
                                      (int64_t)i);
    }
    return 0;
}

static int request_type(const itp_line_config *c)
{
    if (c->direction == ITP_DIRECTION_OUTPUT)
        return GPIOD_LINE_REQUEST_DIRECTION_OUTPUT;
    switch (c->edge) {
    case ITP_EDGE_RISING: return GPIOD_LINE_REQUEST_EVENT_RISING_EDGE;
    case ITP_EDGE_FALLING: return GPIOD_LINE_REQUEST_EVENT_FALLING_EDGE;
    case ITP_EDGE_BOTH: return GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES;
    default: return GPIOD_LINE_REQUEST_DIRECTION_INPUT;
    }
}

static int request_flags(const itp_line_config *c)
{
    int flags = 0;
    if (c->active_low)
        flags |= GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW;
    switch (c->bias) {
    case ITP_BIAS_DISABLED: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE; break;
    case ITP_BIAS_PULL_UP: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP; break;
    case ITP_BIAS_PULL_DOWN: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN; break;
    default: break;
    }
    if (c->direction == ITP_DIRECTION_OUTPUT) {
        if (c->drive == ITP_DRIVE_OPEN_DRAIN)
            flags |= GPIOD_LINE_REQUEST_FLAG_OPEN_DRAIN;
        else if (c->drive == ITP_DRIVE_OPEN_SOURCE)
            flags |= GPIOD_LINE_REQUEST_FLAG_OPEN_SOURCE;
    }
    return flags;
}

itp_request *itp_request_lines(itp_chip *chip, const char *consumer, const itp_line_config *cfg,
                               size_t n, size_t event_buffer_size, itp_status *st)
{
    (void)event_buffer_size; /* the v1 kernel queue is fixed (16 events per line) */
    if (n == 0) {
        itp_fail_errno(st, EINVAL, "itp_request_lines", "no lines given", -1);
        return NULL;
    }
    if (check_configs(cfg, n, st) < 0)
        return NULL;
    itp_request *r = calloc(1, sizeof *r);
    if (!r || !(r->lines = calloc(n, sizeof *r->lines)) || !(r->offsets = calloc(n, sizeof *r->offsets))
        || !(r->edges = calloc(n, sizeof *r->edges))) {
        if (r)
            r->epfd = -1, request_free(r, 0);
        itp_fail_errno(st, ENOMEM, "calloc", NULL, -1);
        return NULL;
    }
    r->n = n;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r->epfd < 0) {
        itp_fail(st, "epoll_create1", NULL, -1);
        request_free(r, 0);
        return NULL;
    }
    __atomic_add_fetch(&chip->refs, 1, __ATOMIC_ACQ_REL);
    r->chip = chip;
    for (size_t i = 0; i < n; i++) {
        errno = 0;
        struct gpiod_line *line = gpiod_chip_get_line(chip->chip, cfg[i].offset);
        if (!line) {
            itp_fail(st, "gpiod_chip_get_line", NULL, (int64_t)i);
            request_free(r, i);
            return NULL;
        }
        struct gpiod_line_request_config rc = {
            .consumer = consumer,
            .request_type = request_type(&cfg[i]),
            .flags = request_flags(&cfg[i]),
        };
        if (gpiod_line_request(line, &rc, cfg[i].initial ? 1 : 0) < 0) {
            itp_fail(st, "gpiod_line_request", NULL, (int64_t)i);
            request_free(r, i);
            return NULL;
        }
        r->lines[i] = line;
        r->offsets[i] = cfg[i].offset;
        if (cfg[i].direction == ITP_DIRECTION_INPUT && cfg[i].edge != ITP_EDGE_NONE) {
            r->edges[i] = true;
            struct epoll_event ev = {.events = EPOLLIN | EPOLLPRI, .data.u64 = i};
            int fd = gpiod_line_event_get_fd(line);
            if (fd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                itp_fail(st, fd < 0 ? "gpiod_line_event_get_fd" : "epoll_ctl", NULL, (int64_t)i);
                request_free(r, i + 1);
                return NULL;
            }
        }
    }
    return r;
}

void itp_request_release(itp_request *req)
{
    if (req)
        request_free(req, req->n);
}

static int64_t index_of(itp_request *r, uint32_t offset)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->offsets[i] == offset)
            return (int64_t)i;
    return -1;
}

int itp_request_set_values(itp_request *req, size_t n, const uint32_t *offsets, const int *values,
                           itp_status *st)
{
    for (size_t k = 0; k < n; k++) {
        int64_t i = index_of(req, offsets[k]);
        if (i < 0)
            return itp_fail_errno(st, EINVAL, "itp_request_set_values", "line not in this request",
                                  (int64_t)k);
        if (gpiod_line_set_value(req->lines[i], values[k] ? 1 : 0) < 0)
            return itp_fail(st, "gpiod_line_set_value", NULL, (int64_t)k);
    }
    return 0;
}

int itp_request_get_values(itp_request *req, size_t n, const uint32_t *offsets, int *values,
                           itp_status *st)
{
    for (size_t k = 0; k < n; k++) {
        int64_t i = index_of(req, offsets[k]);
        if (i < 0)
            return itp_fail_errno(st, EINVAL, "itp_request_get_values", "line not in this request",
                                  (int64_t)k);
        int v = gpiod_line_get_value(req->lines[i]);
        if (v < 0)
            return itp_fail(st, "gpiod_line_get_value", NULL, (int64_t)k);
        values[k] = v;
    }
    return 0;
}

/* Polls the event fds of the request: > 0 if some are readable, 0 on timeout. */
static int poll_events(itp_request *r, int64_t timeout_ns, struct pollfd *fds, size_t *nfds,
                       itp_status *st)
{
    *nfds = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (!r->edges[i])
            continue;
        fds[*nfds].fd = gpiod_line_event_get_fd(r->lines[i]);
        fds[*nfds].events = POLLIN | POLLPRI;
        fds[*nfds].revents = 0;
        (*nfds)++;
    }
    int64_t deadline = timeout_ns < 0 ? -1 : itp_now_ns() + timeout_ns;
    for (;;) {
        struct timespec ts, *tsp = NULL;
        if (deadline >= 0) {
            int64_t left = deadline - itp_now_ns();
            if (left < 0)
                left = 0;
            ts.tv_sec = left / 1000000000;
            ts.tv_nsec = left % 1000000000;
            tsp = &ts;
        }
        int rv = ppoll(fds, *nfds, tsp, NULL);
        if (rv >= 0)
            return rv;
        if (errno != EINTR)
            return itp_fail(st, "ppoll", NULL, -1);
    }
}

int itp_request_wait_edge_events(itp_request *req, int64_t timeout_ns, itp_status *st)
{
    struct pollfd fds[req->n + 1];
    size_t nfds;
    int rv = poll_events(req, timeout_ns, fds, &nfds, st);
    return rv < 0 ? -1 : rv > 0;
}

int itp_request_read_edge_events(itp_request *req, itp_edge_event *out, size_t max, itp_status *st)
{
    struct pollfd fds[req->n + 1];
    size_t nfds;
    if (max == 0)
        return 0;
    size_t any = 0;
    for (size_t i = 0; i < req->n; i++)
        any += req->edges[i];
    if (!any)
        return itp_fail_errno(st, EINVAL, "itp_request_read_edge_events",
                              "no line of this request has edge detection", -1);
    if (poll_events(req, -1, fds, &nfds, st) < 0)
        return -1;
    size_t count = 0;
    for (size_t i = 0, f = 0; i < req->n && count < max; i++) {
        if (!req->edges[i])
            continue;
        struct pollfd *p = &fds[f++];
        if (!(p->revents & (POLLIN | POLLPRI)))
            continue;
        struct gpiod_line_event evs[16];
        size_t want = max - count < 16 ? max - count : 16;
        int got = gpiod_line_event_read_fd_multiple(p->fd, evs, (unsigned int)want);
        if (got < 0)
            return itp_fail(st, "gpiod_line_event_read_fd_multiple", NULL, (int64_t)i);
        for (int e = 0; e < got; e++) {
            itp_edge_event *o = &out[count++];
            o->offset = req->offsets[i];
            o->type = evs[e].event_type == GPIOD_LINE_EVENT_RISING_EDGE ? ITP_EVENT_RISING
                                                                        : ITP_EVENT_FALLING;
            o->timestamp_ns = (uint64_t)evs[e].ts.tv_sec * 1000000000u + (uint64_t)evs[e].ts.tv_nsec;
            o->global_seqno = 0;
            o->line_seqno = 0;
        }
    }
    /* Lines were read one after another: order by timestamp (stable) as v2 delivers them. */
    for (size_t a = 1; a < count; a++) {
        itp_edge_event key = out[a];
        size_t b = a;
        for (; b > 0 && out[b - 1].timestamp_ns > key.timestamp_ns; b--)
            out[b] = out[b - 1];
        out[b] = key;
    }
    return (int)count;
}

int itp_request_fd(itp_request *req, itp_status *st)
{
    (void)st;
    return req->epfd;
}

#endif
