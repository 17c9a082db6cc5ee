/*
 * sensor_emulator.c -- two-pass Feature Distillation on the sensor side, through
 * the fdjpeg C API alone (no Python): read raw RGB frames (binary PPM, P6, 8-bit;
 * several frames may be concatenated in one file) and write each one as a
 * standard JPEG whose DQT holds the DNN-oriented table.
 *
 *   sensor_emulator [-t TABLE.txt] [-s 444|420] [-r RESTART_MCUS] in.ppm out_prefix
 *
 * TABLE.txt is libjpeg's -qtables text format (64 integers, natural order; what
 * `fdjpeg tables --export` writes); without -t the package's default FD table
 * (20 in the 15 accuracy-sensitive bands, 30 elsewhere) is used.  Frames are
 * written to out_prefix0000.jpg, out_prefix0001.jpg, ...
 *
 * Build: cc -O2 -Icsrc csrc/examples/sensor_emulator.c csrc/[a-z]*.c -o sensor_emulator
 *    or: make -C csrc && cc -Icsrc sensor_emulator.c csrc/build/libfdjpeg.a
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdjpeg.h"

/* fdjpeg.tables.feature_distillation() with the shipped band statistics */
static const uint16_t default_fd_table[64] = {
    20, 20, 20, 20, 20, 30, 30, 30, 20, 20, 20, 20, 30, 30, 30, 30,
    20, 20, 20, 30, 30, 30, 30, 30, 20, 20, 30, 30, 30, 30, 30, 30,
    20, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30};

static int read_table(const char *path, uint16_t t[64])
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    if (!f)
        return -1;
    while (n < 64) {
        long v;
        c = fgetc(f);
        if (c == EOF)
            break;
        if (c == '#') { /* comment to end of line */
            while (c != '\n' && c != EOF)
                c = fgetc(f);
            continue;
        }
        if (c < '0' || c > '9')
            continue;
        ungetc(c, f);
        if (fscanf(f, "%ld", &v) != 1 || v < 1 || v > 65535)
            break;
        t[n++] = (uint16_t)v;
    }
    fclose(f);
    return n == 64 ? 0 : -1;
}

/* PPM header token: skips whitespace and comments */
static int ppm_int(FILE *f, int *out)
{
    int c;
    do {
        c = fgetc(f);
        if (c == '#')
            while (c != '\n' && c != EOF)
                c = fgetc(f);
    } while (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '#');
    if (c == EOF)
        return -1;
    ungetc(c, f);
    return fscanf(f, "%d", out) == 1 ? 0 : -1;
}

/* Reads one P6 frame; returns 1 on success, 0 at a clean end of file, -1 on error. */
static int read_frame(FILE *f, uint8_t **pix, int *w, int *h)
{
    int c0, c1, maxval;
    size_t n;
    do
        c0 = fgetc(f);
    while (c0 == '\n' || c0 == ' ' || c0 == '\r' || c0 == '\t');
    if (c0 == EOF)
        return 0;
    c1 = fgetc(f);
    if (c0 != 'P' || c1 != '6' || ppm_int(f, w) || ppm_int(f, h) || ppm_int(f, &maxval) ||
        maxval != 255 || *w <= 0 || *h <= 0 || *w > 65535 || *h > 65535)
        return -1;
    fgetc(f); /* the single whitespace after maxval */
    n = (size_t)*w * (size_t)*h * 3;
    *pix = (uint8_t *)malloc(n);
    if (!*pix || fread(*pix, 1, n, f) != n)
        return -1;
    return 1;
}

int main(int argc, char **argv)
{
    const char *table_path = NULL, *sub = "444";
    int restart = 0, i = 1, frame = 0, st;
    uint16_t table[64];
    FILE *in;
    memcpy(table, default_fd_table, sizeof table);
    for (; i < argc - 2; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc - 2)
            table_path = argv[++i];
        else if (!strcmp(argv[i], "-s") && i + 1 < argc - 2)
            sub = argv[++i];
        else if (!strcmp(argv[i], "-r") && i + 1 < argc - 2)
            restart = atoi(argv[++i]);
        else
            break;
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: %s [-t TABLE.txt] [-s 444|420] [-r MCUS] in.ppm out_prefix\n", argv[0]);
        return 2;
    }
    if (table_path && read_table(table_path, table)) {
        fprintf(stderr, "%s: cannot read 64 table entries 1..65535\n", table_path);
        return 2;
    }
    in = fopen(argv[i], "rb");
    if (!in) {
        perror(argv[i]);
        return 1;
    }
    for (;;) {
        fdj_encode_params p;
        uint8_t *pix = NULL, *jpg = NULL;
        size_t size = 0;
        char msg[FDJ_MSG_SIZE] = "", name[4096];
        FILE *out;
        int w, h, r = read_frame(in, &pix, &w, &h);
        if (r <= 0) {
            free(pix);
            if (r < 0)
                fprintf(stderr, "%s: frame %d is not an 8-bit binary PPM\n", argv[i], frame);
            fclose(in);
            return r < 0 ? 1 : 0;
        }
        /* the calls a firmware needs: defaults, geometry, table, sampling, encode */
        fdj_encode_params_init(&p);
        p.width = w;
        p.height = h;
        p.in_color = FDJ_IN_RGB;
        p.num_qtables = 1; /* one table for every component: the FD grid everywhere */
        memcpy(p.qtable[0], table, sizeof table);
        p.comp_qtable[0] = p.comp_qtable[1] = p.comp_qtable[2] = 0;
        if (!strcmp(sub, "420"))
            p.h_samp[0] = p.v_samp[0] = 2; /* 4:2:0 moves the chroma grid: 4:4:4 keeps it */
        p.restart_interval = restart;
        st = fdj_encode(&p, pix, (ptrdiff_t)w * 3, 3, 1, &jpg, &size, msg);
        free(pix);
        if (st != FDJ_OK) {
            fprintf(stderr, "frame %d: %s (%s)\n", frame, msg, fdj_status_string(st));
            fclose(in);
            return 1;
        }
        snprintf(name, sizeof name, "%s%04d.jpg", argv[i + 1], frame);
        out = fopen(name, "wb");
        if (!out || fwrite(jpg, 1, size, out) != size || fclose(out) != 0) {
            perror(name);
            fdj_free(jpg);
            fclose(in);
            return 1;
        }
        fdj_free(jpg);
        frame++;
    }
}
