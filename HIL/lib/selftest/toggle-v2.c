/* Toggles one GPIO line PULSES times (1 then 0 each) as fast as libgpiod v2 (2.x) allows, to check
 * that the HIL edge observer records every edge. Usage: toggle-v2 /dev/gpiochipN OFFSET PULSES
 * Prints: "toggle-v2 pulses=P edges=E ns_per_edge=X". Exit 0, or 1 on any libgpiod error. */
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
    unsigned int offset = (unsigned)atoi(argv[2]);
    struct gpiod_chip *chip = gpiod_chip_open(argv[1]);
    if (!chip) { perror("gpiod_chip_open"); return 1; }
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    struct gpiod_line_config *lcfg = gpiod_line_config_new();
    struct gpiod_request_config *rcfg = gpiod_request_config_new();
    if (!settings || !lcfg || !rcfg) { perror("alloc"); return 1; }
    gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT);
    gpiod_line_settings_set_output_value(settings, GPIOD_LINE_VALUE_INACTIVE);
    if (gpiod_line_config_add_line_settings(lcfg, &offset, 1, settings) < 0) { perror("config"); return 1; }
    gpiod_request_config_set_consumer(rcfg, "toggle-v2");
    struct gpiod_line_request *req = gpiod_chip_request_lines(chip, rcfg, lcfg);
    if (!req) { perror("gpiod_chip_request_lines"); return 1; }
    long pulses = atol(argv[3]);
    double t0 = now_ns();
    for (long i = 0; i < pulses; i++) {
        if (gpiod_line_request_set_value(req, offset, GPIOD_LINE_VALUE_ACTIVE) < 0 ||
            gpiod_line_request_set_value(req, offset, GPIOD_LINE_VALUE_INACTIVE) < 0) { perror("set"); return 1; }
    }
    double dt = now_ns() - t0;
    printf("toggle-v2 pulses=%ld edges=%ld ns_per_edge=%.0f\n", pulses, 2 * pulses, pulses ? dt / (2.0 * pulses) : 0);
    gpiod_line_request_release(req);
    gpiod_request_config_free(rcfg);
    gpiod_line_config_free(lcfg);
    gpiod_line_settings_free(settings);
    gpiod_chip_close(chip);
    return 0;
}
