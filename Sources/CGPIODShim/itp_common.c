/* Shim parts that are the same for libgpiod v1 and v2: chip discovery, label lookup, errno names. */
#include "itp_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t itp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void itp_copy_name(char dst[ITP_NAME_MAX], const char *src)
{
    if (!src)
        src = "";
    snprintf(dst, ITP_NAME_MAX, "%s", src);
}

int itp_api_version(void)
{
    return ITP_GPIOD_API;
}

const char *itp_library_version(void)
{
#if ITP_GPIOD_API == 1
    return gpiod_version_string();
#else
    return gpiod_api_version();
#endif
}

/* "gpiochipN" with N all digits; returns N or -1. */
static long chip_number(const char *name)
{
    if (strncmp(name, "gpiochip", 8) != 0 || name[8] == '\0')
        return -1;
    char *end = NULL;
    long n = strtol(name + 8, &end, 10);
    return (*end == '\0' && n >= 0) ? n : -1;
}

static int by_chip_number(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int itp_list_chip_paths(char *buf, size_t len, itp_status *st)
{
    DIR *dir = opendir("/dev");
    if (!dir)
        return 0;
    long nums[1024];
    size_t count = 0;
    struct dirent *ent;
    while ((ent = readdir(dir)) && count < sizeof nums / sizeof nums[0]) {
        long n = chip_number(ent->d_name);
        if (n >= 0)
            nums[count++] = n;
    }
    closedir(dir);
    qsort(nums, count, sizeof nums[0], by_chip_number);
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        int w = snprintf(buf + used, len > used ? len - used : 0, "/dev/gpiochip%ld", nums[i]);
        if (w < 0 || used + (size_t)w + 1 > len)
            return itp_fail_errno(st, ERANGE, "itp_list_chip_paths", NULL, -1);
        used += (size_t)w + 1;
    }
    return (int)count;
}

itp_chip *itp_chip_open_by_label(const char *label, itp_status *st)
{
    char paths[8192];
    itp_status scan = {0};
    int n = itp_list_chip_paths(paths, sizeof paths, &scan);
    if (n < 0) {
        if (st)
            *st = scan;
        return NULL;
    }
    int denied = 0;
    const char *p = paths;
    for (int i = 0; i < n; i++, p += strlen(p) + 1) {
        itp_status ignored = {0};
        itp_chip *chip = itp_chip_open(p, &ignored);
        if (!chip) {
            if (ignored.err == EACCES || ignored.err == EPERM)
                denied = ignored.err;
            continue;
        }
        itp_chip_info info;
        if (itp_chip_get_info(chip, &info, &ignored) == 0 && strcmp(info.label, label) == 0)
            return chip;
        itp_chip_close(chip);
    }
    itp_fail_errno(st, denied ? denied : ENOENT, "itp_chip_open_by_label", NULL, -1);
    return NULL;
}

void itp_sleep_ns(int64_t ns)
{
    if (ns <= 0)
        return;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    int64_t total = deadline.tv_nsec + ns % 1000000000;
    deadline.tv_sec += ns / 1000000000 + total / 1000000000;
    deadline.tv_nsec = total % 1000000000;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR)
        ;
}

const char *itp_errno_name(int err)
{
    const char *name = strerrorname_np(err);
    return name ? name : "E?";
}

const char *itp_errno_description(int err)
{
    const char *d = strerrordesc_np(err);
    return d ? d : "unknown error";
}
