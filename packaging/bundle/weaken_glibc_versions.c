/* weaken_glibc_versions FILE MAX: marks every GLIBC_x.y version that FILE requires and that is newer
 * than MAX (e.g. GLIBC_2.35) as a weak version reference (VER_FLG_WEAK in .gnu.version_r), in place,
 * and prints each one it changed. The dynamic loader of an older glibc then loads FILE instead of
 * refusing it ("version `GLIBC_2.36' not found"); each symbol of that version must still be defined
 * by some loaded object — in the bundle, libcoda-glibc-compat.so (glibc_compat.c) defines them.
 * Exit status: 0 (also when nothing needed a change), 1 on a file that is not a 64-bit ELF. */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Compares "GLIBC_2.36" with "GLIBC_2.35" numerically; a name without the prefix is never newer. */
static int newer_than(const char* version, const char* max) {
  const char* prefix = "GLIBC_";
  size_t n = strlen(prefix);
  if (strncmp(version, prefix, n) != 0 || strncmp(max, prefix, n) != 0) return 0;
  const char* a = version + n;
  const char* b = max + n;
  while (*a != '\0' || *b != '\0') {
    char* end_a;
    char* end_b;
    long x = strtol(a, &end_a, 10);
    long y = strtol(b, &end_b, 10);
    if (x != y) return x > y;
    a = *end_a == '.' ? end_a + 1 : end_a;
    b = *end_b == '.' ? end_b + 1 : end_b;
  }
  return 0;
}

static int fail(const char* file, const char* what) {
  fprintf(stderr, "weaken_glibc_versions: %s: %s\n", file, what);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: weaken_glibc_versions FILE MAX_VERSION (e.g. GLIBC_2.35)\n");
    return 2;
  }
  const char* file = argv[1];
  int fd = open(file, O_RDWR);
  if (fd < 0) return fail(file, "cannot open for writing");
  struct stat st;
  if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(Elf64_Ehdr)) return fail(file, "too small");
  unsigned char* base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (base == MAP_FAILED) return fail(file, "cannot map");
  size_t size = (size_t)st.st_size;
  const Elf64_Ehdr* eh = (const Elf64_Ehdr*)base;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64)
    return fail(file, "not a 64-bit ELF file");
  if (eh->e_shoff == 0 || eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
    return fail(file, "no section headers");
  const Elf64_Shdr* sections = (const Elf64_Shdr*)(base + eh->e_shoff);
  for (int i = 0; i < eh->e_shnum; ++i) {
    if (sections[i].sh_type != SHT_GNU_verneed) continue;
    const Elf64_Shdr* strtab = &sections[sections[i].sh_link];
    const char* strings = (const char*)base + strtab->sh_offset;
    size_t need_at = sections[i].sh_offset;
    for (;;) {
      Elf64_Verneed* need = (Elf64_Verneed*)(base + need_at);
      size_t aux_at = need_at + need->vn_aux;
      for (int j = 0; j < need->vn_cnt; ++j) {
        Elf64_Vernaux* aux = (Elf64_Vernaux*)(base + aux_at);
        const char* name = strings + aux->vna_name;
        if (newer_than(name, argv[2]) && !(aux->vna_flags & VER_FLG_WEAK)) {
          aux->vna_flags |= VER_FLG_WEAK;
          printf("%s: %s from %s is now a weak version reference\n", file, name,
                 strings + need->vn_file);
        }
        aux_at += aux->vna_next;
      }
      if (need->vn_next == 0) break;
      need_at += need->vn_next;
    }
  }
  if (msync(base, size, MS_SYNC) != 0) return fail(file, "cannot write back");
  munmap(base, size);
  return 0;
}
