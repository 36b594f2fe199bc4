/*
 * fuzz_config.c -- fuzz target: the configuration reader. Any text must
 * give either a configuration or one "file:line: message" error line;
 * nothing may crash or leak.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("fuzz-config", 0);
  if (fd < 0) return 0;
  if (size && write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  char path[64], err[1024] = "";
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ib_config *cfg = ib_config_load(path, err, sizeof err);
  if (cfg == NULL &&
      (strncmp(err, path, strlen(path)) != 0 || strchr(err, '\n') != NULL)) {
    fprintf(stderr, "bad error line: [%s]\n", err);
    abort(); /* an error must name the file, on one line */
  }
  ib_config_free(cfg);
  close(fd);
  return 0;
}
