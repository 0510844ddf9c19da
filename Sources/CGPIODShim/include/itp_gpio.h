/*
 * itp_gpio.h: the one C surface of itpump's GPIO binding.
 *
 * Hides the difference between libgpiod API v1 (1.x) and v2 (2.x); which one is compiled in is chosen
 * from the installed <gpiod.h> (v1 defines GPIOD_LINE_BULK_MAX_LINES). This header does not include
 * <gpiod.h>, so Swift never sees libgpiod's own types.
 *
 * Conventions: a fallible function returns -1 (or NULL), leaves errno set, and fills *st with the
 * errno, the name of the C call that failed, an optional detail and the index of the line config
 * concerned (-1 when none). Nothing here is thread-safe: a chip and its requests belong to one thread
 * at a time. EINTR is retried inside the shim.
 */
#ifndef ITP_GPIO_H
#define ITP_GPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ITP_NAME_MAX 32 /* the kernel's GPIO_MAX_NAME_SIZE, NUL included */

/* Line direction. */
#define ITP_DIRECTION_UNKNOWN 0
#define ITP_DIRECTION_INPUT 1
#define ITP_DIRECTION_OUTPUT 2

/* Internal bias. AS_IS leaves the kernel's setting alone; UNKNOWN appears only in line info. */
#define ITP_BIAS_AS_IS 0
#define ITP_BIAS_DISABLED 1
#define ITP_BIAS_PULL_UP 2
#define ITP_BIAS_PULL_DOWN 3
#define ITP_BIAS_UNKNOWN 4

/* Output drive. */
#define ITP_DRIVE_PUSH_PULL 0
#define ITP_DRIVE_OPEN_DRAIN 1
#define ITP_DRIVE_OPEN_SOURCE 2

/* Edge detection. UNKNOWN appears only in line info under API v1 (its line info has no edge flags). */
#define ITP_EDGE_NONE 0
#define ITP_EDGE_RISING 1
#define ITP_EDGE_FALLING 2
#define ITP_EDGE_BOTH 3
#define ITP_EDGE_UNKNOWN 4

/* Clock of edge event timestamps. Only MONOTONIC is available with API v1. */
#define ITP_CLOCK_MONOTONIC 0
#define ITP_CLOCK_REALTIME 1
#define ITP_CLOCK_HTE 2

/* Edge event type. */
#define ITP_EVENT_RISING 1
#define ITP_EVENT_FALLING 2

typedef struct itp_status {
    int err;            /* errno of the failure */
    const char *call;   /* name of the C call that failed (static string) */
    const char *detail; /* e.g. the unsupported feature; NULL if none (static string) */
    int64_t index;      /* index into the line configs the failure concerns, or -1 */
} itp_status;

typedef struct itp_chip itp_chip;
typedef struct itp_request itp_request;

typedef struct itp_chip_info {
    char name[ITP_NAME_MAX];
    char label[ITP_NAME_MAX];
    uint32_t num_lines;
} itp_chip_info;

typedef struct itp_line_info {
    uint32_t offset;
    char name[ITP_NAME_MAX];     /* "" if the line has no name */
    char consumer[ITP_NAME_MAX]; /* "" if unused or the kernel gives none */
    bool used;
    bool active_low;
    int direction;    /* ITP_DIRECTION_* */
    int bias;         /* ITP_BIAS_* */
    int drive;        /* ITP_DRIVE_* */
    int edge;         /* ITP_EDGE_* (UNKNOWN under v1) */
    uint32_t debounce_us;  /* 0 under v1 */
    int event_clock;  /* ITP_CLOCK_* */
} itp_line_info;

typedef struct itp_line_config {
    uint32_t offset;
    int direction;    /* ITP_DIRECTION_INPUT or ITP_DIRECTION_OUTPUT */
    int initial;      /* outputs: initial logical value, 0 or 1 */
    bool active_low;
    int bias;         /* ITP_BIAS_* (not UNKNOWN) */
    int drive;        /* outputs: ITP_DRIVE_* */
    int edge;         /* inputs: ITP_EDGE_* (not UNKNOWN) */
    uint32_t debounce_us; /* inputs, v2 only; 0 = none */
    int event_clock;  /* inputs with edges; non-MONOTONIC needs v2 */
} itp_line_config;

typedef struct itp_edge_event {
    uint32_t offset;
    int type;              /* ITP_EVENT_* */
    uint64_t timestamp_ns; /* kernel timestamp (clock per the line's event_clock) */
    uint64_t global_seqno; /* v2: sequence number within the request; 0 under v1 */
    uint64_t line_seqno;   /* v2: sequence number on this line; 0 under v1 */
} itp_edge_event;

/* 1 or 2: the libgpiod API generation compiled in. */
int itp_api_version(void);
/* Version string of the libgpiod loaded at run time (gpiod_version_string / gpiod_api_version). */
const char *itp_library_version(void);

/* Writes the paths of /dev/gpiochip* into buf as NUL-terminated strings, one after another, sorted by
 * chip number; returns how many (0 if none, or if /dev cannot be read), or -1 if buf is too small. */
int itp_list_chip_paths(char *buf, size_t len, itp_status *st);

itp_chip *itp_chip_open(const char *path, itp_status *st);
/* Opens the first /dev/gpiochip* whose label is `label`; ENOENT if none (EACCES if none matched and
 * some chip could not be opened for lack of permission). */
itp_chip *itp_chip_open_by_label(const char *label, itp_status *st);
/* Closes the chip. Requests made from it stay valid; the chip's memory goes with the last of them. */
void itp_chip_close(itp_chip *chip);
int itp_chip_get_info(itp_chip *chip, itp_chip_info *out, itp_status *st);
/* Returns the offset (>= 0) of the line named `name`, or -1 (ENOENT if no line has that name). */
int64_t itp_chip_find_line(itp_chip *chip, const char *name, itp_status *st);
int itp_chip_get_line_info(itp_chip *chip, uint32_t offset, itp_line_info *out, itp_status *st);

/* Requests n lines, consumer label `consumer`. event_buffer_size bounds how many edge events one
 * read returns (v2: the kernel's and libgpiod's buffer; 0 = default). */
itp_request *itp_request_lines(itp_chip *chip, const char *consumer, const itp_line_config *configs,
                               size_t n, size_t event_buffer_size, itp_status *st);
void itp_request_release(itp_request *req);
/* Logical values (active-low applied), 0 or 1, for the given requested offsets. */
int itp_request_set_values(itp_request *req, size_t n, const uint32_t *offsets, const int *values,
                           itp_status *st);
int itp_request_get_values(itp_request *req, size_t n, const uint32_t *offsets, int *values,
                           itp_status *st);
/* Waits up to timeout_ns (negative: forever) for edge events: 1 if some are pending, 0 on timeout. */
int itp_request_wait_edge_events(itp_request *req, int64_t timeout_ns, itp_status *st);
/* Reads up to max pending edge events (blocks until at least one); returns how many. */
int itp_request_read_edge_events(itp_request *req, itp_edge_event *out, size_t max, itp_status *st);
/* A file descriptor that becomes readable when edge events are pending (for poll/epoll); owned by the
 * request. */
int itp_request_fd(itp_request *req, itp_status *st);

/* Sleeps ns nanoseconds on CLOCK_MONOTONIC (absolute deadline, so EINTR does not stretch it). */
void itp_sleep_ns(int64_t ns);

/* "ENOENT" and "No such file or directory" for an errno (never NULL). */
const char *itp_errno_name(int err);
const char *itp_errno_description(int err);

#endif
