/*
 * replay_main.c -- run a fuzz target's LLVMFuzzerTestOneInput over files and
 * directories without libFuzzer (any C compiler): for regression replay where
 * clang is missing, and for gcov line coverage of a corpus.
 *   cc -Icsrc fuzz/fuzz_decode.c fuzz/replay_main.c csrc/ALL.c -lm -o replay_decode
 *   (ALL.c: every csrc/ source file)
 *   ./replay_decode fuzz/regressions/decode fuzz/work/corpus/fuzz_decode
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long g_files;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;
    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    buf = (uint8_t *)malloc(n ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    g_files++;
    return 0;
}

static int run_path(const char *path)
{
    struct stat st;
    DIR *dir;
    struct dirent *e;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    dir = opendir(path);
    if (!dir)
        return -1;
    while ((e = readdir(dir)) != NULL) {
        char sub[4096];
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub)
            continue;
        run_path(sub);
    }
    closedir(dir);
    return 0;
}

int main(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++)
        if (run_path(argv[i]) != 0)
            fprintf(stderr, "cannot read %s\n", argv[i]);
    printf("replayed %ld files\n", g_files);
    return 0;
}
