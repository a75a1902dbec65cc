/* retarget_glibc_versions FILE MAX: every GLIBC_x.y version newer than MAX (e.g. GLIBC_2.35) that
 * FILE requires is rewritten, in place in .gnu.version_r, into the oldest GLIBC version FILE already
 * requires from the same library (e.g. GLIBC_2.2.5); prints each one it changed.
 *
 * Why: the dynamic loader of an older glibc refuses a library that requires a version it lacks
 * ("version `GLIBC_2.36' not found"). After the rewrite it loads, and each symbol that had the new
 * version (e.g. arc4random@GLIBC_2.36) is looked up as name@GLIBC_2.2.5, which no glibc defines —
 * so on every glibc, old or new, it binds to the first unversioned definition in the lookup scope:
 * libcoda-glibc-compat.so (glibc_compat.c), which make-bundle.sh adds to FILE's NEEDED list. The
 * behaviour is the same on the build machine as on the target, which is what lets the test check it.
 *
 * Exit status: 0 (also when nothing needed a change); 1 when FILE is not a 64-bit ELF file or needs
 * a newer version from a library it requires no older GLIBC version from. */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Compares two GLIBC_x.y[.z] names numerically: <0, 0, >0. Names without the prefix compare 0. */
static int compare_glibc(const char* a, const char* b) {
  const char* prefix = "GLIBC_";
  size_t n = strlen(prefix);
  if (strncmp(a, prefix, n) != 0 || strncmp(b, prefix, n) != 0) return 0;
  a += n;
  b += n;
  while (*a != '\0' || *b != '\0') {
    char* end_a;
    char* end_b;
    long x = strtol(a, &end_a, 10);
    long y = strtol(b, &end_b, 10);
    if (x != y) return x < y ? -1 : 1;
    a = *end_a == '.' ? end_a + 1 : end_a;
    b = *end_b == '.' ? end_b + 1 : end_b;
  }
  return 0;
}

static int is_glibc_version(const char* name) { return strncmp(name, "GLIBC_2", 7) == 0; }

static int fail(const char* file, const char* what) {
  fprintf(stderr, "retarget_glibc_versions: %s: %s\n", file, what);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: retarget_glibc_versions FILE MAX_VERSION (e.g. GLIBC_2.35)\n");
    return 2;
  }
  const char* file = argv[1];
  const char* max = argv[2];
  int fd = open(file, O_RDWR);
  if (fd < 0) return fail(file, "cannot open for writing");
  struct stat st;
  if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(Elf64_Ehdr)) return fail(file, "too small");
  size_t size = (size_t)st.st_size;
  unsigned char* base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (base == MAP_FAILED) return fail(file, "cannot map");
  const Elf64_Ehdr* eh = (const Elf64_Ehdr*)base;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64)
    return fail(file, "not a 64-bit ELF file");
  if (eh->e_shoff == 0 || eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
    return fail(file, "no section headers");
  const Elf64_Shdr* sections = (const Elf64_Shdr*)(base + eh->e_shoff);
  int status = 0;
  for (int i = 0; i < eh->e_shnum; ++i) {
    if (sections[i].sh_type != SHT_GNU_verneed) continue;
    const char* strings = (const char*)base + sections[sections[i].sh_link].sh_offset;
    size_t need_at = sections[i].sh_offset;
    for (;;) {
      Elf64_Verneed* need = (Elf64_Verneed*)(base + need_at);
      /* The oldest GLIBC version required from this library: the target of the rewrite. */
      Elf64_Vernaux* oldest = NULL;
      size_t aux_at = need_at + need->vn_aux;
      for (int j = 0; j < need->vn_cnt; ++j) {
        Elf64_Vernaux* aux = (Elf64_Vernaux*)(base + aux_at);
        const char* name = strings + aux->vna_name;
        if (is_glibc_version(name) &&
            (oldest == NULL || compare_glibc(name, strings + oldest->vna_name) < 0))
          oldest = aux;
        aux_at += aux->vna_next;
      }
      aux_at = need_at + need->vn_aux;
      for (int j = 0; j < need->vn_cnt; ++j) {
        Elf64_Vernaux* aux = (Elf64_Vernaux*)(base + aux_at);
        const char* name = strings + aux->vna_name;
        if (is_glibc_version(name) && compare_glibc(name, max) > 0) {
          if (oldest == NULL || compare_glibc(strings + oldest->vna_name, max) > 0) {
            fprintf(stderr, "retarget_glibc_versions: %s: %s from %s has no older version to use\n",
                    file, name, strings + need->vn_file);
            status = 1;
          } else {
            printf("%s: %s from %s is now %s\n", file, name, strings + need->vn_file,
                   strings + oldest->vna_name);
            aux->vna_name = oldest->vna_name;
            aux->vna_hash = oldest->vna_hash;
            aux->vna_flags &= (Elf64_Half)~VER_FLG_WEAK;
          }
        }
        aux_at += aux->vna_next;
      }
      if (need->vn_next == 0) break;
      need_at += need->vn_next;
    }
  }
  if (msync(base, size, MS_SYNC) != 0) return fail(file, "cannot write back");
  munmap(base, size);
  return status;
}
