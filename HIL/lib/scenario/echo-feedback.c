/* The stroke-feedback sensor of the HIL rig: mirrors the motor's ENABLE output onto the STROKE_FEEDBACK
 * input, polling every 200 us. Killing it models a stalled motor: feedback stays low.
 *   echo-feedback VALUE_FILE OUT_FILE [ON OFF]
 * VALUE_FILE holds '0'/'1' (gpio-sim `sim_gpioN/value` of ENABLE; on a board the sysfs value of the
 * harness input wired to ENABLE); OUT_FILE gets ON/OFF (default "pull-up"/"pull-down" for gpio-sim's
 * `sim_gpioN/pull`; "1"/"0" for a board's sysfs output value wired to STROKE_FEEDBACK). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int read_value(int fd) {
    char c = '0';
    if (pread(fd, &c, 1, 0) != 1) return -1;
    return c == '1';
}

static const char *on_text = "pull-up", *off_text = "pull-down";

static int write_pull(const char *path, int up) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    const char *s = up ? on_text : off_text;
    ssize_t n = write(fd, s, strlen(s));
    close(fd);
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 5) { fprintf(stderr, "usage: echo-feedback VALUE_FILE OUT_FILE [ON OFF]\n"); return 2; }
    if (argc == 5) { on_text = argv[3]; off_text = argv[4]; }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror(argv[1]); return 1; }
    int last = -1;
    struct timespec pause = {0, 200000};
    for (;;) {
        int v = read_value(fd);
        if (v < 0) { perror("read"); return 1; }
        if (v != last) {
            if (write_pull(argv[2], v) != 0) { perror(argv[2]); return 1; }
            last = v;
        }
        nanosleep(&pause, NULL);
    }
}
