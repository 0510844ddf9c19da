/* The stroke-feedback sensor of the HIL rig: a healthy motor's sensor, which goes active when the motor
 * is enabled for a stroke and inactive when it is disabled. Every change of ENABLE is echoed, in order,
 * onto the STROKE_FEEDBACK input, so every stroke gives exactly one feedback rising edge after ENABLE
 * rose (what RigDriver checks: a rising feedback edge at or after the stroke's start, within the rig's
 * feedbackTimeout after its end). Killing the echo models a stalled motor: feedback stays low.
 *
 *   echo-feedback SOURCE OUT_FILE [ON OFF]
 *
 * SOURCE is where ENABLE's changes come from:
 *   trace:DIR:GPIO  a tracefs instance DIR (its gpio_value events filtered to that global GPIO number,
 *                   sets only): every value itpump writes to ENABLE arrives through DIR/trace_pipe, in
 *                   order, however late this process is scheduled; a 1.7 ms ENABLE pulse is never missed
 *                   (polling gpio-sim's sim_gpioN/value missed strokes when the guest was loaded);
 *   VALUE_FILE      a file holding '0'/'1' (a board's sysfs value of the harness input wired to ENABLE):
 *                   waited on with poll(POLLPRI) (set its `edge` to "both"), re-read at least every
 *                   200 us; an edge notification whose value equals the last one is a whole pulse that
 *                   came and went, and is echoed as one.
 * OUT_FILE gets ON/OFF (default "pull-up"/"pull-down" for gpio-sim's `sim_gpioN/pull`; "1"/"0" for a
 * board's sysfs output value wired to STROKE_FEEDBACK). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *out_path, *on_text = "pull-up", *off_text = "pull-down";
static int last = -1;

static int write_out(int up) {
    int fd = open(out_path, O_WRONLY);
    if (fd < 0) return -1;
    const char *s = up ? on_text : off_text;
    ssize_t n = write(fd, s, strlen(s));
    close(fd);
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* echo VALUE: mirror one observed ENABLE value (a repeated value is no change). */
static void echo(int v) {
    if (v == last) return;
    if (write_out(v) != 0) { perror(out_path); exit(1); }
    last = v;
}

/* trace:DIR:GPIO — lines like "itpump-813 [000] ..... 146.068673: gpio_value: 1016 set 1". */
static int follow_trace(const char *spec) {
    char dir[512];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon - spec >= (long)sizeof dir - 16) { fprintf(stderr, "bad source %s\n", spec); return 2; }
    unsigned gpio = (unsigned)strtoul(colon + 1, NULL, 10);
    snprintf(dir, sizeof dir, "%.*s/trace_pipe", (int)(colon - spec), spec);
    FILE *f = fopen(dir, "r");
    if (!f) { perror(dir); return 1; }
    setvbuf(f, NULL, _IONBF, 0);
    char line[512];
    for (;;) {
        if (!fgets(line, sizeof line, f)) { perror("trace_pipe"); return 1; }
        const char *p = strstr(line, "gpio_value: ");
        unsigned g; char what[8]; int v;
        if (p && sscanf(p, "gpio_value: %u %7s %d", &g, what, &v) == 3 && g == gpio && strcmp(what, "set") == 0)
            echo(v != 0);
    }
}

static int read_value(int fd) {
    char c = '0';
    if (pread(fd, &c, 1, 0) != 1) return -1;
    return c == '1';
}

static int follow_file(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); return 1; }
    struct pollfd pfd = { .fd = fd, .events = POLLPRI | POLLERR };
    struct timespec pause = {0, 200000};
    for (;;) {
        int v = read_value(fd);
        if (v < 0) { perror("read"); return 1; }
        echo(v);
        int r = ppoll(&pfd, 1, &pause, NULL);
        if (r > 0 && (pfd.revents & POLLPRI)) {
            int now = read_value(fd);
            if (now < 0) { perror("read"); return 1; }
            if (now == last) { echo(!now); }   /* a whole pulse between two reads */
            echo(now);
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 5) { fprintf(stderr, "usage: echo-feedback trace:DIR:GPIO|VALUE_FILE OUT_FILE [ON OFF]\n"); return 2; }
    out_path = argv[2];
    if (argc == 5) { on_text = argv[3]; off_text = argv[4]; }
    return strncmp(argv[1], "trace:", 6) == 0 ? follow_trace(argv[1] + 6) : follow_file(argv[1]);
}
