/* Toggles one GPIO line PULSES times (1 then 0 each) as fast as libgpiod v1 (1.6.x) allows, to check
 * that the HIL edge observer records every edge. Usage: toggle-v1 /dev/gpiochipN OFFSET PULSES
 * Prints: "toggle-v1 pulses=P edges=E ns_per_edge=X". Exit 0, or 1 on any libgpiod error. */
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s CHIP OFFSET PULSES\n", argv[0]); return 2; }
    struct gpiod_chip *chip = gpiod_chip_open(argv[1]);
    if (!chip) { perror("gpiod_chip_open"); return 1; }
    struct gpiod_line *line = gpiod_chip_get_line(chip, (unsigned)atoi(argv[2]));
    if (!line || gpiod_line_request_output(line, "toggle-v1", 0) < 0) { perror("request"); return 1; }
    long pulses = atol(argv[3]);
    double t0 = now_ns();
    for (long i = 0; i < pulses; i++) {
        if (gpiod_line_set_value(line, 1) < 0 || gpiod_line_set_value(line, 0) < 0) { perror("set"); return 1; }
    }
    double dt = now_ns() - t0;
    printf("toggle-v1 pulses=%ld edges=%ld ns_per_edge=%.0f\n", pulses, 2 * pulses, pulses ? dt / (2.0 * pulses) : 0);
    gpiod_line_release(line);
    gpiod_chip_close(chip);
    return 0;
}
