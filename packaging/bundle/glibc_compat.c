/* libcoda-glibc-compat.so: the glibc 2.36 functions that libraries of the build machine (Debian 12)
 * call, for the relocatable bundle, which must run on glibc 2.35 (the Databricks Apps runtime,
 * Ubuntu 22.04). make-bundle.sh rewrites those references to an old version no glibc defines them
 * at (retarget_glibc_versions.c) and adds this library to the NEEDED list of the files that make
 * them, so they bind here on every glibc — the same code on the build machine as on the target.
 *
 * Today: arc4random, arc4random_buf (libstdc++'s std::random_device, expat's hash salt) and
 * arc4random_uniform, from the kernel's getrandom(2) (glibc 2.25). Like glibc's, they never fail:
 * an unusable kernel source aborts. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>

#define CODA_EXPORT __attribute__((visibility("default")))

CODA_EXPORT void arc4random_buf(void* buffer, size_t size) {
  unsigned char* out = buffer;
  while (size > 0) {
    ssize_t got = getrandom(out, size, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      abort();
    }
    out += got;
    size -= (size_t)got;
  }
}

CODA_EXPORT uint32_t arc4random(void) {
  uint32_t value;
  arc4random_buf(&value, sizeof value);
  return value;
}

/* Uniform in [0, upper_bound) without modulo bias: reject the values below 2^32 mod upper_bound. */
CODA_EXPORT uint32_t arc4random_uniform(uint32_t upper_bound) {
  if (upper_bound < 2) return 0;
  uint32_t min = (uint32_t)(-upper_bound) % upper_bound;
  for (;;) {
    uint32_t value = arc4random();
    if (value >= min) return value % upper_bound;
  }
}
