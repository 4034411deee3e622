/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"

/* Larger images than this are refused rather than read into memory. */
#define IMAGE_MAX (1ull << 31)

int em_image_read(const char *path, const char *what, const struct kc_logger *log,
                  struct em_image *img)
{
    struct stat st;
    int fd, err;

    memset(img, 0, sizeof(*img));
    img->name = path;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        kc_log(log, KC_LOG_ERROR, "%s %s: %s", what, path, strerror(err));
        return -err;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        err = S_ISREG(st.st_mode) ? errno : EINVAL;
        kc_log(log, KC_LOG_ERROR, "%s %s: %s", what, path,
               err == EINVAL ? "not a regular file" : strerror(err));
        close(fd);
        return -err;
    }
    if (st.st_size == 0 || (uint64_t)st.st_size > IMAGE_MAX) {
        kc_log(log, KC_LOG_ERROR, "%s %s: %s", what, path,
               st.st_size == 0 ? "the file is empty" : "larger than 2 GiB");
        close(fd);
        return -EINVAL;
    }
    img->size = (size_t)st.st_size;
    img->data = malloc(img->size);
    if (!img->data) {
        kc_log(log, KC_LOG_ERROR, "%s %s: out of memory for %zu bytes", what, path, img->size);
        close(fd);
        return -ENOMEM;
    }
    for (size_t done = 0; done < img->size;) {
        ssize_t n = read(fd, img->data + done, img->size - done);

        if (n <= 0) {
            err = n < 0 ? errno : EIO;
            kc_log(log, KC_LOG_ERROR, "%s %s: %s", what, path,
                   n < 0 ? strerror(err) : "the file shrank while being read");
            close(fd);
            em_image_free(img);
            return -err;
        }
        done += (size_t)n;
    }
    close(fd);
    return 0;
}

void em_image_free(struct em_image *img)
{
    if (!img)
        return;
    free(img->data);
    img->data = NULL;
    img->size = 0;
}
